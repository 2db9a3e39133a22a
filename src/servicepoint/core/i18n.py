"""Babel catalogs: German msgids are the default language; en/LC_MESSAGES/messages.po translates.

The .po files are read directly (no compile step), so a fresh checkout needs no build.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import io
from functools import cache
from pathlib import Path
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

Lang = Literal["de", "en"]
LANGS: tuple[Lang, ...] = ("de", "en")
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

current_lang: contextvars.ContextVar[Lang] = contextvars.ContextVar("current_lang", default="de")


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    po = TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "de" or not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def coerce_lang(value: str | None) -> Lang | None:
    if not value:
        return None
    short = value.strip().lower()[:2]
    return "en" if short == "en" else "de" if short == "de" else None


def gettext(message: str) -> str:
    return translations(current_lang.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_lang.get()).ngettext(singular, plural, n)


def translate(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def pick(value: dict[str, str] | None, lang: str | None = None) -> str:
    """Choose a catalog text in the current language, falling back to German."""
    if not value:
        return ""
    chosen = lang or current_lang.get()
    return value.get(chosen) or value.get("de") or ""


def N_(message: str) -> str:
    """Mark a German msgid for extraction; it is translated later, in the request's language."""
    return message


def error_text(exc: object, lang: str) -> str:
    """A ServicePointError's message in `lang`, with its parameters filled in."""
    message = str(getattr(exc, "message", exc))
    params = getattr(exc, "params", None)
    text = translate(lang, message)
    return text % params if params else text
