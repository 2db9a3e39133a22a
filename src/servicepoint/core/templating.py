"""Jinja2 environment shared by all domains; every page renders through `render`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from servicepoint.core import i18n
from servicepoint.core.city import city_facts
from servicepoint.core.clock import local

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def euro(cents: int | None) -> str:
    """Format cents as German-style euros, e.g. 4600 -> '46,00 €'."""
    if cents is None:
        return ""
    whole, rest = divmod(cents, 100)
    if i18n.current_lang.get() == "en":
        return f"€{whole:,}.{rest:02d}"
    return f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


def datefmt(value: dt.date | dt.datetime | None, with_time: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local(value)
        if with_time:
            return value.strftime("%d.%m.%Y %H:%M")
        value = value.date()
    return value.strftime("%d.%m.%Y")


_WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def weekday(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = local(value).date()
    return _WEEKDAYS.get(i18n.current_lang.get(), _WEEKDAYS["de"])[value.weekday()]


def timefmt(value: dt.datetime) -> str:
    return local(value).strftime("%H:%M")


def build_env() -> Environment:
    loaders = [FileSystemLoader(str(PACKAGE_DIR / "web" / "templates"))]
    loaders += [FileSystemLoader(str(p)) for p in sorted(PACKAGE_DIR.glob("*/templates"))]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["euro"] = euro
    env.filters["date"] = datefmt
    env.filters["weekday"] = weekday
    env.filters["time"] = timefmt
    env.filters["pick"] = i18n.pick
    env.globals["Markup"] = Markup
    return env


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page in the request's language with the shared layout context."""
    lang: i18n.Lang = getattr(request.state, "lang", "de")
    i18n.current_lang.set(lang)
    env: Environment = request.app.state.templates
    ctx = {
        "request": request,
        "lang": lang,
        "settings": request.app.state.settings,
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
        "city": city_facts(request.app.state.settings.city_dir),
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)
