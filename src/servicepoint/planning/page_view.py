"""What the planner pages show of a result (design17's result JSON: today's network or a
scenario): the map's data, the metrics beside today's, the worst-served districts, gains and
losses, the data issues. Pure functions of the JSON, so the pages, the comparison and the tests
read a result the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from servicepoint.core.i18n import N_, translate
from servicepoint.planning.charts import number, percent
from servicepoint.web.geo import script_json

# Distance bands of the map's shading (upper bound in km, colour); colour-blind safe (RdYlBu).
BANDS: tuple[tuple[float | None, str], ...] = (
    (1.0, "#2c7bb6"),
    (2.0, "#abd9e9"),
    (3.0, "#fee090"),
    (5.0, "#fdae61"),
    (None, "#d7191c"),
)
UNKNOWN_COLOUR = "#9ca3af"
PRECISION = {
    "exact": N_("genau"),
    "corrected": N_("korrigiert"),
    "layer": N_("aus Gebietsebene"),
    "approximate": N_("ungefähr (Punkt des Stadtbezirks)"),
    "missing": N_("fehlt"),
    "placed": N_("auf der Karte gesetzt"),
}
APPROXIMATE = frozenset({"approximate"})
ISSUE_KINDS = {
    "missing_point": N_("Ohne Punkt (nicht berechnet)"),
    "approximate_point": N_("Ungefährer Punkt"),
    "zero_population": N_("Keine Einwohnerzahl"),
    "duplicate_name": N_("Doppelter Name"),
    "unplaced_site": N_("Standort ohne Koordinaten"),
    "approximate_site": N_("Standort mit ungefährem Punkt"),
    "bad_row": N_("Fehlerhafte Zeile"),
}
KINDS = {
    "tradeoff": N_("Beste Standorte für 5 bis 12 Standorte (Abwägungskurve)"),
    "close": N_("Standort schließen"),
    "add": N_("Kandidaten hinzufügen"),
    "cover": N_("95 % innerhalb von r km mit möglichst wenigen Standorten"),
    "balanced": N_("Mittel und schlechtester Fall zählen"),
    "pmedian": N_("Beste p Standorte (p-Median)"),
    "mclp": N_("Meiste Nachfrage innerhalb von r km (MCLP)"),
    "evaluate": N_("Heutiges Netz bewerten"),
}
STATUS = {
    "queued": N_("wartet auf den Start"),
    "running": N_("läuft"),
    "done": N_("fertig"),
    "failed": N_("fehlgeschlagen"),
}
METRICS = (
    ("mean_km", N_("Mittlere Entfernung"), "km"),
    ("p95_km", N_("95. Perzentil der Entfernung"), "km"),
    ("max_km", N_("Größte Entfernung"), "km"),
)
WITHIN = N_("Anteil der Nachfrage innerhalb von %(km)s km")
COVERED = N_("Abgedeckter Anteil (Radius des Szenarios)")


def band_of(km: float | None) -> int | None:
    """The index of the distance band of `km`; None for a point without a distance."""
    if km is None:
        return None
    return next(i for i, (top, _) in enumerate(BANDS) if top is None or km < top)


def legend(lang: str) -> list[dict[str, str]]:
    """The map's legend: each band's colour and its words."""
    rows, low = [], 0.0
    for top, colour in BANDS:
        if top is None:
            label = f"≥ {number(low, lang, 0)} km"
        else:
            label = (
                f"{number(low, lang, 0)} – {translate(lang, N_('unter'))} {number(top, lang, 0)} km"
            )
        rows.append({"colour": colour, "label": label})
        low = top or low
    rows.append(
        {"colour": UNKNOWN_COLOUR, "label": translate(lang, N_("keine Entfernung bekannt"))}
    )
    return rows


def precision_text(precision: str | None, lang: str) -> str:
    return translate(lang, PRECISION.get(precision or "missing", PRECISION["missing"]))


def map_json(
    result: Mapping[str, Any], *, center: Sequence[float], lang: str, editable: bool = False
) -> str:
    """The map's data as script-safe JSON: points shaded by distance, sites, band colours."""
    site_names = {s.get("id"): s.get("name") for s in result.get("sites") or ()}
    points = []
    for p in result.get("points") or ():
        if p.get("lat") is None or p.get("lon") is None:
            continue
        band = band_of(p.get("km"))
        points.append(
            {
                "name": p.get("name"),
                "lat": p["lat"],
                "lon": p["lon"],
                "colour": UNKNOWN_COLOUR if band is None else BANDS[band][1],
                "approx": p.get("precision") in APPROXIMATE,
                "geometry": p.get("geometry"),
                "text": _point_tip(p, site_names.get(p.get("site")), lang),
            }
        )
    sites = [
        {
            "name": s.get("name"),
            "lat": s["lat"],
            "lon": s["lon"],
            "open": bool(s.get("open", True)),
            "approx": s.get("precision") in APPROXIMATE,
            "kind": s.get("kind"),
        }
        for s in result.get("sites") or ()
        if s.get("lat") is not None and s.get("lon") is not None
    ]
    data = {"center": list(center), "points": points, "sites": sites, "editable": editable}
    return script_json(data)


def _point_tip(point: Mapping[str, Any], site: str | None, lang: str) -> str:
    parts = [str(point.get("name") or "")]
    if point.get("km") is not None:
        parts.append(f"{number(point['km'], lang, 2)} km")
    if site:
        parts.append(translate(lang, N_("nächster Standort: %(site)s")) % {"site": site})
    if point.get("precision") in APPROXIMATE:
        parts.append(translate(lang, N_("Punkt ungefähr")))
    return " · ".join(parts)


def metric_rows(
    metrics: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None, *, lang: str
) -> list[dict[str, str]]:
    """Rows of the metrics table: the result's value, today's, and the change."""
    metrics, baseline = metrics or {}, baseline or {}
    rows = []
    for key, msgid, unit in METRICS:
        now, before = metrics.get(key), baseline.get(key)
        rows.append(_row(translate(lang, msgid), now, before, lang, unit))
    within = metrics.get("within") or {}
    before_within = baseline.get("within") or {}
    for radius in sorted(set(within) | set(before_within), key=float):
        label = translate(lang, WITHIN) % {"km": number(float(radius), lang, 0)}
        rows.append(_row(label, within.get(radius), before_within.get(radius), lang, "%"))
    if metrics.get("covered_share") is not None:
        rows.append(_row(translate(lang, COVERED), metrics["covered_share"], None, lang, "%"))
    return rows


def _row(
    label: str, now: float | None, before: float | None, lang: str, unit: str
) -> dict[str, str]:
    def show(value: float | None) -> str:
        if value is None:
            return "–"
        return percent(value, lang) if unit == "%" else f"{number(value, lang, 2)} km"

    change = "–"
    if now is not None and before is not None:
        delta = now - before
        sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
        change = sign + (
            percent(abs(delta), lang) if unit == "%" else f"{number(abs(delta), lang, 2)} km"
        )
    return {"label": label, "value": show(now), "before": show(before), "change": change}


def worst_served(result: Mapping[str, Any], *, count: int = 10) -> list[Mapping[str, Any]]:
    """The points farthest from their nearest site (only points with a distance)."""
    points = [p for p in result.get("points") or () if p.get("km") is not None]
    return sorted(points, key=lambda p: -float(p["km"]))[:count]


def point_rows(result: Mapping[str, Any], *, lang: str) -> list[dict[str, Any]]:
    """Every demand point for the accessible table beside the map."""
    site_names = {s.get("id"): s.get("name") for s in result.get("sites") or ()}
    rows = []
    for p in result.get("points") or ():
        band = band_of(p.get("km"))
        rows.append(
            {
                "name": p.get("name") or "",
                "borough": p.get("borough") or "",
                "population": p.get("population"),
                "weight": number(p.get("weight"), lang, 0),
                "km": None if p.get("km") is None else number(p["km"], lang, 2),
                "before_km": None
                if p.get("before_km") is None
                else number(p["before_km"], lang, 2),
                "site": site_names.get(p.get("site")) or "",
                "precision": precision_text(p.get("precision"), lang),
                "approx": p.get("precision") in APPROXIMATE,
                "colour": UNKNOWN_COLOUR if band is None else BANDS[band][1],
            }
        )
    return rows


def site_rows(result: Mapping[str, Any], *, lang: str) -> list[dict[str, Any]]:
    """The sites with their state in the result (open or not) and how exact their point is."""
    return [
        {
            "id": s.get("id"),
            "name": s.get("name") or "",
            "kind": translate(
                lang, N_("Bürgeramt") if s.get("kind") == "office" else N_("Kandidat")
            ),
            "open": bool(s.get("open", True)),
            "precision": precision_text(s.get("precision"), lang),
            "located": s.get("lat") is not None,
        }
        for s in result.get("sites") or ()
    ]


def change_rows(rows: Sequence[Mapping[str, Any]], *, lang: str) -> list[dict[str, str]]:
    """Gains or losses: who, from how far to how far."""
    return [
        {
            "name": str(r.get("name") or ""),
            "before": number(r.get("before_km"), lang, 2),
            "after": number(r.get("after_km"), lang, 2),
        }
        for r in rows
    ]


def issue_groups(issues: Sequence[Mapping[str, Any]], *, lang: str) -> list[dict[str, Any]]:
    """Data issues grouped by kind, in the page's language where the detail is a known text."""
    groups: dict[str, list[dict[str, str]]] = {}
    for issue in issues:
        kind = str(issue.get("kind") or "")
        subject = str(issue.get("subject") or "")
        detail = translate(lang, str(issue.get("detail") or ""))
        if subject and detail.startswith(subject):  # "Zeile 3: …" names its line already
            subject = ""
        groups.setdefault(kind, []).append({"subject": subject, "detail": detail})
    return [
        {"kind": translate(lang, ISSUE_KINDS[k]) if k in ISSUE_KINDS else k, "items": items}
        for k, items in groups.items()
    ]


WORDS = {
    "stadtteile": N_("Stadtteile"),
    "grid": N_("Importiertes Raster"),
    "current": N_("heute"),
    "2034": N_("Prognose 2034"),
    "great_circle": N_("Luftlinie mal Umwegfaktor"),
    "osrm": N_("Routing-Dienst (OSRM)"),
    "matrix": N_("Matrix aus CSV-Datei"),
}


def _word(value: object, lang: str) -> str:
    text = str(value or "–")
    return translate(lang, WORDS[text]) if text in WORDS else text


def demand_facts(result: Mapping[str, Any], *, lang: str) -> dict[str, str]:
    """What the result's demand rests on, in words."""
    demand = result.get("demand") or {}
    distance = result.get("distance") or {}
    return {
        "basis": _word(demand.get("basis"), lang),
        "year": _word(demand.get("year"), lang),
        "rate": number(demand.get("rate"), lang, 2),
        "total": number(demand.get("total_weight"), lang, 0),
        "approximate": percent(demand.get("approximate_share"), lang),
        "missing": percent(demand.get("missing_share"), lang),
        "method": _word(distance.get("method"), lang),
        "detour": number(distance.get("detour"), lang, 2),
        "adjust_days": str(demand.get("adjust_days") or "") if demand.get("adjusted_by") else "",
    }


def status_text(status: str, lang: str) -> str:
    return translate(lang, STATUS.get(status, status))


def kind_text(kind: str, lang: str) -> str:
    return translate(lang, KINDS.get(kind, kind))


def result_view(
    result: Mapping[str, Any], *, lang: str, center: Sequence[float], key: str = "r"
) -> dict[str, Any]:
    """Everything one result shows; `key` keeps ids apart when two are on one page."""
    from servicepoint.planning.charts import histogram_chart, tradeoff_chart

    points = result.get("points") or []
    curve = result.get("curve") or []
    return {
        "key": key,
        "map_json": map_json(result, center=center, lang=lang),
        "legend": legend(lang),
        "legend_title": translate(lang, N_("Entfernung zum nächsten Standort:")),
        "metrics": metric_rows(result.get("metrics"), result.get("baseline"), lang=lang),
        "points": point_rows(result, lang=lang),
        "sites": site_rows(result, lang=lang),
        "worst": [
            {
                "name": p.get("name") or "",
                "borough": p.get("borough") or "",
                "km": number(p.get("km"), lang, 2),
                "approx": p.get("precision") in APPROXIMATE,
            }
            for p in worst_served(result)
        ],
        "gains": change_rows(result.get("gains") or [], lang=lang),
        "losses": change_rows(result.get("losses") or [], lang=lang),
        "curve": tradeoff_chart(curve, lang=lang, key=f"{key}-curve") if curve else None,
        "histogram": histogram_chart(points, lang=lang, key=f"{key}-hist"),
        "facts": demand_facts(result, lang=lang),
        "issues": issue_groups((result.get("demand") or {}).get("issues") or [], lang=lang),
        "solver": result.get("solver") or {},
        "approximate_count": sum(1 for p in points if p.get("precision") in APPROXIMATE),
    }


# Colours of the data page's map: by how exact a point is, not by distance.
PRECISION_COLOURS = {
    "exact": "#2c7bb6",
    "corrected": "#1a9641",
    "layer": "#1a9641",
    "approximate": "#fdae61",
}


def data_map_json(demand: Any, sites: Any, *, center: Sequence[float], lang: str) -> str:
    """The data page's map (DemandSet and SiteSet): points by how exact they are, clickable to
    fill a form's coordinates."""
    points = [
        {
            "name": p.name,
            "lat": p.lat,
            "lon": p.lon,
            "colour": PRECISION_COLOURS.get(p.precision, UNKNOWN_COLOUR),
            "approx": p.precision in APPROXIMATE,
            "geometry": p.geometry,
            "text": f"{p.name} · {precision_text(p.precision, lang)}",
        }
        for p in demand.points
        if p.lat is not None and p.lon is not None
    ]
    site_rows_ = [
        {
            "name": s.name,
            "lat": s.lat,
            "lon": s.lon,
            "open": True,
            "approx": s.precision in APPROXIMATE,
            "kind": s.kind,
        }
        for s in sites.sites
        if s.lat is not None and s.lon is not None
    ]
    data = {"center": list(center), "points": points, "sites": site_rows_, "editable": True}
    return script_json(data)


def precision_legend(lang: str) -> list[dict[str, str]]:
    """The data map's legend: a colour per kind of point."""
    keys = ("exact", "corrected", "approximate")
    rows = [{"colour": PRECISION_COLOURS[k], "label": precision_text(k, lang)} for k in keys]
    rows[1]["label"] += " / " + precision_text("layer", lang)
    return rows


# A scenario's parameters in the words of its form.
PARAM_LABELS = {
    "k_min": N_("Kleinste Zahl von Standorten"),
    "k_max": N_("Größte Zahl von Standorten"),
    "p": N_("Zahl der Standorte p"),
    "radius_km": N_("Radius r in km"),
    "share": N_("Anteil der Nachfrage"),
    "site_id": N_("Standort"),
    "basis": N_("Nachfrage"),
    "year": N_("Jahr der Einwohnerzahlen"),
    "rate": N_("Besuche je Einwohner und Jahr"),
    "detour": N_("Umwegfaktor"),
    "method": N_("Entfernungen"),
    "fixed_open": N_("Fest offen"),
    "forced_closed": N_("Geschlossen"),
}


def param_rows(
    params: Mapping[str, Any], *, site_names: Mapping[str, str], lang: str
) -> list[tuple[str, str]]:
    """The parameters that were set, each with its label and its value in words (site ids as
    the sites' names, never the matrix's whole text)."""
    rows = []
    for key, value in params.items():
        if key == "matrix_csv" or value in (None, [], ""):
            continue
        if key in ("site_id", "fixed_open", "forced_closed"):
            ids = value if isinstance(value, list) else [value]
            text = ", ".join(site_names.get(str(i), str(i)) for i in ids)
        elif key == "share" and isinstance(value, int | float):
            text = percent(float(value), lang, 0)
        elif isinstance(value, float):
            text = number(value, lang, 2)
        else:
            text = _word(value, lang)
        label = translate(lang, PARAM_LABELS[key]) if key in PARAM_LABELS else key
        rows.append((label, text))
    return rows


COMPARE_FACTS = ("basis", "year", "rate", "method", "detour")


def compare_table(views: Sequence[Mapping[str, Any]], *, lang: str) -> dict[str, Any]:
    """The comparison's table: first what each result rests on (basis, year, rate, distance
    method, detour), then every metric as each result's own "today" beside its value, never
    one "today" for results computed on different bases. `mixed` says the bases differ."""
    facts = [
        {"label": translate(lang, PARAM_LABELS[key]), "cells": [v["facts"][key] for v in views]}
        for key in COMPARE_FACTS
    ]
    by_label = [{row["label"]: row for row in v["metrics"]} for v in views]
    labels = list(dict.fromkeys(label for rows in by_label for label in rows))  # radii may differ
    metrics = [
        {
            "label": label,
            "cells": [
                (rows[label]["before"], rows[label]["value"]) if label in rows else ("–", "–")
                for rows in by_label
            ],
        }
        for label in labels
    ]
    mixed = any(len(set(row["cells"])) > 1 for row in facts)
    return {"facts": facts, "metrics": metrics, "mixed": mixed}
