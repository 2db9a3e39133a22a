"""The pages a German public body must publish: Impressum, privacy notice (Art. 13 DSGVO) and
accessibility statement (§ 9a NBGG / BITV 2.0).

Their text is the city's, read from data/<city>/legal/<page>.yaml in German and English; code
only lays it out. A fact left empty in the file is shown as unknown, never guessed.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from servicepoint.catalog.datafile import Text
from servicepoint.config import Settings
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import Key
from servicepoint.core.templating import render
from servicepoint.errors import NotFound

router = APIRouter(include_in_schema=False)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Fact(_Strict):
    label: Text
    # None: not known yet; the page says so. A plain string reads the same in both languages.
    value: Text | str | None = None
    kind: Literal["text", "email", "phone", "url"] = "text"
    # A whole-number setting (e.g. booking_retention_days) whose current value replaces {n}, so
    # the notice can never promise another period than the worker applies.
    setting: str | None = None

    @model_validator(mode="after")
    def _setting_is_a_number(self) -> Fact:
        if self.setting is None:
            return self
        field = Settings.model_fields.get(self.setting)
        if field is None or field.annotation is not int:
            raise ValueError(f"setting {self.setting!r} is no whole-number setting")
        if not isinstance(self.value, Text) or "{n}" not in self.value.de + self.value.en:
            raise ValueError("a fact with a setting needs a de/en value containing {n}")
        return self


class Link(_Strict):
    label: Text
    url: str = Field(pattern=r"^(https?://|mailto:)\S+$")


class Section(_Strict):
    heading: Text
    paragraphs: list[Text] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    link: Link | None = None


class LegalPage(_Strict):
    title: Text
    as_of: dt.date | None = None
    intro: Text | None = None
    sections: list[Section] = Field(min_length=1)


class LegalFileError(Exception):
    """A legal page's data file is missing a field or has a wrong one; names the file."""


@cache
def load_page(path: Path) -> LegalPage:
    """Read and validate one page file (cached: the files change only with a deployment)."""
    try:
        return LegalPage.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValueError) as exc:
        raise LegalFileError(f"{path.name}: {exc}") from exc


def _text(value: Text | str, lang: str) -> str:
    return value if isinstance(value, str) else getattr(value, lang)


def _fact(fact: Fact, lang: str, settings: Settings) -> dict[str, Any]:
    value = None if fact.value is None else _text(fact.value, lang)
    if value is not None and fact.setting:
        value = value.replace("{n}", str(getattr(settings, fact.setting)))
    return {"label": _text(fact.label, lang), "value": value, "kind": fact.kind}


def localise(page: LegalPage, lang: str, settings: Settings) -> dict[str, Any]:
    """The page in one language, with settings filled in, ready for the template."""
    sections = [
        {
            "heading": _text(s.heading, lang),
            "paragraphs": [_text(p, lang) for p in s.paragraphs],
            "facts": [_fact(f, lang, settings) for f in s.facts],
            "link": s.link and {"label": _text(s.link.label, lang), "url": s.link.url},
        }
        for s in page.sections
    ]
    intro = page.intro and _text(page.intro, lang)
    return {
        "title": _text(page.title, lang),
        "as_of": page.as_of,
        "intro": intro,
        "sections": sections,
    }


def _show(request: Request, name: str, kiosk: str | None = None) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    path = settings.city_dir / "legal" / f"{name}.yaml"
    if not path.is_file():
        raise NotFound(N_("Diese Seite hat die Stadt noch nicht veröffentlicht."))
    page = localise(load_page(path), request.state.lang, settings)
    # Opened from a kiosk: the same text in the kiosk's layout, with the way back to the kiosk.
    return render(request, "legal/page.html", {"page": page, "kiosk": kiosk})


@router.get("/impressum", response_class=HTMLResponse)
def impressum(request: Request) -> HTMLResponse:
    """The city's Impressum (provider identification)."""
    return _show(request, "impressum")


@router.get("/datenschutz", response_class=HTMLResponse)
def privacy(request: Request, kiosk: Key | None = None) -> HTMLResponse:
    """The privacy notice under Art. 13 DSGVO, with retention periods from the settings."""
    return _show(request, "datenschutz", kiosk)


@router.get("/barrierefreiheit", response_class=HTMLResponse)
def accessibility(request: Request) -> HTMLResponse:
    """The accessibility statement with its feedback channel and enforcement procedure."""
    return _show(request, "barrierefreiheit")
