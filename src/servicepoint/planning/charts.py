"""Charts drawn on the server as SVG: the trade-off curve (sites against distance) and the
distance histogram. No chart library and no script: the SVG is an image with a title and a
description for screen readers (role=img), and each chart comes with its numbers as rows for a
data table beside it, so nothing is shown only as a picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from servicepoint.core.i18n import N_, translate

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 20, 52
# Kilometre bands of the histogram; the last is open ("5 km and more").
HIST_EDGES = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)

TEXTS = {
    "curve_title": N_("Abwägung: Zahl der Standorte und Entfernung"),
    "curve_desc": N_(
        "Mittlere und größte Entfernung zum nächsten Standort für %(first)s bis %(last)s "
        "Standorte. Mittlere Entfernung von %(mean_first)s km bis %(mean_last)s km."
    ),
    "curve_x": N_("Zahl der Standorte"),
    "curve_y": N_("Entfernung in km"),
    "mean": N_("Mittel"),
    "max": N_("Größte"),
    "not_proven": N_("nicht als optimal bewiesen (hohler Punkt)"),
    "hist_title": N_("Verteilung der Nachfrage nach Entfernung"),
    "hist_desc": N_(
        "Anteil der Nachfrage je Entfernungsband; größter Balken: %(band)s mit %(share)s."
    ),
    "hist_x": N_("Entfernung zum nächsten Standort"),
    "hist_y": N_("Anteil der Nachfrage in %"),
    "empty": N_("Keine Daten für dieses Diagramm."),
}


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the same numbers as table rows (header first)."""

    svg: Markup
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def number(value: float | None, lang: str, digits: int = 1) -> str:
    """A number in the page's language: 1,5 in German, 1.5 in English; unknown is a dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:,.{digits}f}"
    if lang == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(share: float | None, lang: str, digits: int = 1) -> str:
    """A share of 1 as percent text: 0.953 -> '95,3 %' (German) or '95.3%' (English)."""
    if share is None:
        return "–"
    value = number(share * 100, lang, digits)
    return f"{value} %" if lang == "de" else f"{value}%"


def _ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to at least `high`."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(high / step) + 1)]


def _frame(title: str, desc: str, key: str, body: list[str]) -> Markup:
    """The SVG element: an image named by its title and described by its description."""
    ids = f"{key}-title {key}-desc"
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ids}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _axes(
    x_label: str, y_label: str, y_ticks: Sequence[float], scale_y: Any, lang: str
) -> list[str]:
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
    ]
    for value in y_ticks:
        y = scale_y(value)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(number(value, lang, 1 if value % 1 else 0))}</text>"
        )
    parts.append(
        f'<text class="label" x="{(LEFT + right) / 2:.0f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text class="label" x="14" y="{(TOP + bottom) / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + bottom) / 2:.0f})">{escape(y_label)}</text>'
    )
    return parts


def tradeoff_chart(curve: Sequence[Mapping[str, Any]], *, lang: str, key: str = "curve") -> Chart:
    """Mean and largest distance against the number of sites (one point per k)."""
    text = {name: translate(lang, msgid) for name, msgid in TEXTS.items()}
    header = (text["curve_x"], f"{text['mean']} (km)", f"{text['max']} (km)", "")
    rows = tuple(
        (
            str(p["k"]),
            number(p.get("mean_km"), lang, 2),
            number(p.get("max_km"), lang, 2),
            "" if p.get("optimal") else text["not_proven"],
        )
        for p in curve
    )
    points = [p for p in curve if p.get("mean_km") is not None]
    if not points:
        return Chart(
            _frame(text["curve_title"], text["empty"], key, []), text["curve_title"], header, rows
        )
    ks = [int(p["k"]) for p in points]
    k_low, k_high = min(ks), max(ks)
    top = max(float(p.get("max_km") or p["mean_km"]) for p in points)
    y_ticks = _ticks(top)
    y_top = y_ticks[-1] or 1.0
    span = max(k_high - k_low, 1)

    def scale_x(k: float) -> float:
        return LEFT + 20 + (k - k_low) / span * (WIDTH - RIGHT - LEFT - 40)

    def scale_y(v: float) -> float:
        return TOP + (1 - v / y_top) * (HEIGHT - BOTTOM - TOP)

    body = _axes(text["curve_x"], text["curve_y"], y_ticks, scale_y, lang)
    for k in ks:
        body.append(
            f'<text class="tick" x="{scale_x(k):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{k}</text>'
        )
    for series, css in (("max_km", "series-max"), ("mean_km", "series-mean")):
        line = [
            (scale_x(int(p["k"])), scale_y(float(p[series])))
            for p in points
            if p.get(series) is not None
        ]
        if line:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
            body.append(f'<polyline class="{css}" points="{coords}" fill="none"/>')
        for p in points:
            if p.get(series) is None:
                continue
            x, y = scale_x(int(p["k"])), scale_y(float(p[series]))
            fill = "" if p.get("optimal") else " hollow"
            body.append(f'<circle class="{css}{fill}" cx="{x:.1f}" cy="{y:.1f}" r="5"/>')
    legend_y = TOP + 4
    for i, (name, css) in enumerate(((text["mean"], "series-mean"), (text["max"], "series-max"))):
        x = WIDTH - RIGHT - 150 + i * 80
        body.append(f'<line class="{css}" x1="{x}" y1="{legend_y}" x2="{x + 20}" y2="{legend_y}"/>')
        body.append(f'<text class="tick" x="{x + 24}" y="{legend_y + 4}">{escape(name)}</text>')
    desc = translate(lang, TEXTS["curve_desc"]) % {
        "first": k_low,
        "last": k_high,
        "mean_first": number(float(points[0]["mean_km"]), lang, 2),
        "mean_last": number(float(points[-1]["mean_km"]), lang, 2),
    }
    return Chart(_frame(text["curve_title"], desc, key, body), text["curve_title"], header, rows)


def histogram_bins(points: Sequence[Mapping[str, Any]]) -> list[tuple[float, float | None, float]]:
    """(from km, to km or None for the open last band, share of the weight) for points with a
    distance; points without one (no coordinates) are not in any band."""
    edges = list(HIST_EDGES)
    weights = [0.0] * len(edges)
    total = 0.0
    for p in points:
        km, weight = p.get("km"), float(p.get("weight") or 0.0)
        if km is None or weight <= 0:
            continue
        index = next((i for i in range(len(edges) - 1, -1, -1) if km >= edges[i]), 0)
        weights[index] += weight
        total += weight
    return [
        (
            edges[i],
            edges[i + 1] if i + 1 < len(edges) else None,
            weights[i] / total if total else 0.0,
        )
        for i in range(len(edges))
    ]


def band_label(low: float, high: float | None, lang: str) -> str:
    if high is None:
        return f"≥ {number(low, lang, 0)} km"
    return f"{number(low, lang, 0)}–{number(high, lang, 0)} km"


def histogram_chart(points: Sequence[Mapping[str, Any]], *, lang: str, key: str = "hist") -> Chart:
    """Share of the demand per 1-km distance band."""
    text = {name: translate(lang, msgid) for name, msgid in TEXTS.items()}
    bins = histogram_bins(points)
    header = (text["hist_x"], text["hist_y"])
    rows = tuple((band_label(lo, hi, lang), percent(share, lang)) for lo, hi, share in bins)
    if not any(share for _, _, share in bins):
        return Chart(
            _frame(text["hist_title"], text["empty"], key, []), text["hist_title"], header, rows
        )
    y_ticks = _ticks(max(share for _, _, share in bins) * 100)
    y_top = y_ticks[-1] or 1.0

    def scale_y(v: float) -> float:
        return TOP + (1 - v / y_top) * (HEIGHT - BOTTOM - TOP)

    body = _axes(text["hist_x"], text["hist_y"], y_ticks, scale_y, lang)
    slot = (WIDTH - RIGHT - LEFT) / len(bins)
    for i, (lo, hi, share) in enumerate(bins):
        x, y = LEFT + i * slot + 6, scale_y(share * 100)
        height = HEIGHT - BOTTOM - y
        body.append(
            f'<rect class="bar band-{i}" x="{x:.1f}" y="{y:.1f}" width="{slot - 12:.1f}" '
            f'height="{height:.1f}"/>'
        )
        body.append(
            f'<text class="tick" x="{x + (slot - 12) / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(band_label(lo, hi, lang))}</text>'
        )
    biggest = max(bins, key=lambda b: b[2])
    desc = translate(lang, TEXTS["hist_desc"]) % {
        "band": band_label(biggest[0], biggest[1], lang),
        "share": percent(biggest[2], lang),
    }
    return Chart(_frame(text["hist_title"], desc, key, body), text["hist_title"], header, rows)
