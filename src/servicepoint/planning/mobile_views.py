"""What the mobile ServicePoint's pages show (the routes are in mobile_pages): the map data,
the texts of statuses, weekdays and the checker's findings in the page's language, and a plan's
page with its routes, verdict and the report of its last publication (stored with the plan).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from servicepoint.core.city import city_facts
from servicepoint.core.i18n import N_, translate
from servicepoint.core.templating import render
from servicepoint.planning import mobile_publish, mobile_service
from servicepoint.planning.models import MobilePlan, MobileStop
from servicepoint.web.geo import district_points, script_json

BASE = "/planung/mobil"
STATUS = {
    "queued": N_("wartet auf die Berechnung"),
    "running": N_("wird berechnet"),
    "done": N_("fertig"),
    "failed": N_("fehlgeschlagen"),
}
WEEKDAY_SHORT = (N_("Mo"), N_("Di"), N_("Mi"), N_("Do"), N_("Fr"), N_("Sa"), N_("So"))
# One colour per weekday (routes on the map; the table says the same in words).
DAY_COLOURS = ("#0b4f9c", "#b3001b", "#1b7a3e", "#7a3db8", "#b35900", "#00707a", "#4b5563")


def map_json(request: Request, **data: Any) -> str:
    city_dir = request.app.state.settings.city_dir
    base = {
        "center": city_facts(city_dir).get("center") or [51.0, 10.0],
        "references": [{"name": n, "lat": a, "lon": o} for n, a, o in district_points(city_dir)],
        "stops": [],
        "routes": [],
        "depot": None,
        "pick": None,
    }
    return script_json({**base, **data})


def stop_marker(stop: MobileStop) -> dict[str, Any]:
    return {
        "name": stop.name,
        "lat": stop.lat,
        "lon": stop.lon,
        "approx": stop.approximate,
        "active": stop.active,
        "url": f"{BASE}/halte/{stop.id}",
    }


def _named(lang: str, names: dict[str, str], key: str) -> str:
    return translate(lang, names[key]) if key in names else key


def _violation(lang: str, found: dict[str, Any]) -> str:
    """The checker's finding in the page's language (its German text if it has no msgid)."""
    message, params = found.get("message"), found.get("params") or {}
    if not message:
        return str(found.get("detail", ""))
    return translate(lang, message) % params if params else translate(lang, message)


def common(lang: str) -> dict[str, Any]:
    return {
        "status_text": lambda s: _named(lang, STATUS, s),
        "kind_text": lambda k: _named(lang, mobile_service.KIND_NAMES, k),
        "weekday_short": lambda d: translate(lang, WEEKDAY_SHORT[d]),
        "day_colour": lambda d: DAY_COLOURS[d],
        "note_text": lambda n: translate(lang, n) if n else "",
        "issue_text": lambda i: i.translated(lambda msgid: translate(lang, msgid)),
        "violation_text": lambda v: _violation(lang, v),
    }


def plan_page(
    request: Request,
    plan: MobilePlan,
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "plan": plan,
        "result": plan.result,
        "polling": plan.status in ("queued", "running"),
        "days": _days(plan),
        "publication": mobile_publish.stored_publication(plan),
        "error": error,
        **common(request.state.lang),
    }
    if plan.result:
        context["map_json"] = map_json(request, **_plan_map(plan.result))
    return render(request, "planning/mobile_plan.html", context, status_code=status_code)


def _days(plan: MobilePlan) -> list[dict[str, Any]]:
    days = []
    for day in (plan.result or {}).get("days", []):
        date = dt.date.fromisoformat(day["date"])
        days.append({**day, "day": date, "weekday": date.weekday()})
    return days


def _plan_map(result: dict[str, Any]) -> dict[str, Any]:
    van = result.get("van") or {}
    depot = [van.get("depot_lat"), van.get("depot_lon")]
    where = {s["id"]: [s["lat"], s["lon"]] for s in result.get("stops", [])}
    routes = []
    for day in result.get("days", []):
        date = dt.date.fromisoformat(day["date"])
        points = [depot, *(where[v["stop_id"]] for v in day["visits"] if v["stop_id"] in where)]
        routes.append(
            {
                "label": date.strftime("%d.%m."),
                "colour": DAY_COLOURS[date.weekday()],
                "points": [*points, depot],
            }
        )
    visited = {v["stop_id"] for d in result.get("days", []) for v in d["visits"]}
    stops = [
        {
            "name": s["name"],
            "lat": s["lat"],
            "lon": s["lon"],
            "approx": s["approximate"],
            "active": s["id"] in visited,
            "url": f"{BASE}/halte/{s['id']}",
        }
        for s in result.get("stops", [])
    ]
    return {"stops": stops, "routes": routes, "depot": depot}
