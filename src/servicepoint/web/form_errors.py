"""Validation errors in words for people: every pydantic error type and every form field has a
German msgid (translated by the catalogs), so pydantic's English ("String should match pattern
…") never reaches a page. Unknown error types get a plain general sentence, never their text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from servicepoint.core import i18n
from servicepoint.core.i18n import N_

# Form fields by the name the models and forms use; the label the page shows beside the field.
FIELD_LABELS = {
    "hours": N_("Servicezeiten"),
    "opening_hours": N_("Öffnungszeiten"),
    "counters": N_("Schalter"),
    "walkin_share": N_("Anteil für Kunden ohne Termin"),
    "walkin_percent": N_("Anteil für Kunden ohne Termin"),
    "grid_minutes": N_("Zeitraster"),
    "service_ids": N_("Angebotene Leistungen"),
    "service": N_("Leistung"),
    "dec24": N_("24. Dezember"),
    "dec31": N_("31. Dezember"),
    "opening_source": N_("Quelle der Öffnungszeiten"),
    "source": N_("Quelle"),
    "name": N_("Name"),
    "street": N_("Straße"),
    "house_number": N_("Hausnummer"),
    "building": N_("Gebäude"),
    "postcode": N_("Postleitzahl"),
    "city": N_("Ort"),
    "lat": N_("Breitengrad"),
    "lon": N_("Längengrad"),
    "phone": N_("Telefon"),
    "notes": N_("Hinweise"),
    "day": N_("Tag"),
    "reason": N_("Grund"),
    "username": N_("Benutzername"),
    "password": N_("Passwort"),
    "role": N_("Rolle"),
    "email": N_("E-Mail-Adresse"),
    "code": N_("Buchungscode"),
}

# What a field must look like; said instead of a refused pattern, range or the field's own check.
FORMAT_HINTS = {
    "hours": N_("Bitte so angeben: „Mo-Fr 08:00-12:00; Do 14:00-18:00“."),
    "opening_hours": N_(
        "Bitte so angeben: „Mo-Fr 08:00-12:00; Do 14:00-18:00“, oder leer lassen, wenn unbekannt."
    ),
    "walkin_share": N_("Bitte eine Zahl von 0 bis 100 eingeben."),
    "walkin_percent": N_("Bitte eine Zahl von 0 bis 100 eingeben."),
    "postcode": N_("Bitte fünf Ziffern eingeben, z. B. 30159."),
    "dec24": N_("Bitte einen Eintrag aus der Liste wählen."),
    "dec31": N_("Bitte einen Eintrag aus der Liste wählen."),
    "role": N_("Bitte einen Eintrag aus der Liste wählen."),
    "service_ids": N_("Bitte nur Leistungen aus der Liste wählen."),
    "lat": N_("Bitte eine Zahl von -90 bis 90 eingeben, z. B. 52.37."),
    "lon": N_("Bitte eine Zahl von -180 bis 180 eingeben, z. B. 9.73."),
}
# A hint explains the format; these errors are about something else and keep their own text.
_NOT_FORMAT = {"missing", "string_too_long", "too_long", "invalid_characters", "formula_prefix"}

TYPE_TEXT = {
    "missing": N_("Bitte ausfüllen."),
    "string_too_short": N_("Bitte mindestens %(min_length)s Zeichen eingeben."),
    "string_too_long": N_("Bitte höchstens %(max_length)s Zeichen eingeben."),
    "too_short": N_("Bitte mindestens %(min_length)s auswählen."),
    "too_long": N_("Bitte höchstens %(max_length)s auswählen."),
    "string_type": N_("Bitte einen Text eingeben."),
    "int_parsing": N_("Bitte eine ganze Zahl eingeben."),
    "int_type": N_("Bitte eine ganze Zahl eingeben."),
    "int_from_float": N_("Bitte eine ganze Zahl eingeben."),
    "float_parsing": N_("Bitte eine Zahl eingeben."),
    "float_type": N_("Bitte eine Zahl eingeben."),
    "finite_number": N_("Bitte eine Zahl eingeben."),
    "bool_parsing": N_("Bitte ja oder nein wählen."),
    "bool_type": N_("Bitte ja oder nein wählen."),
    "greater_than_equal": N_("Bitte mindestens %(ge)s eingeben."),
    "less_than_equal": N_("Bitte höchstens %(le)s eingeben."),
    "greater_than": N_("Bitte mehr als %(gt)s eingeben."),
    "less_than": N_("Bitte weniger als %(lt)s eingeben."),
    "literal_error": N_("Bitte einen der angebotenen Werte wählen."),
    "enum": N_("Bitte einen der angebotenen Werte wählen."),
    "string_pattern_mismatch": N_("Die Angabe hat nicht die erwartete Form."),
    "date_parsing": N_("Bitte ein Datum eingeben, z. B. 24.12.2026."),
    "date_type": N_("Bitte ein Datum eingeben, z. B. 24.12.2026."),
    "date_from_datetime_parsing": N_("Bitte ein Datum eingeben, z. B. 24.12.2026."),
    "date_from_datetime_inexact": N_("Bitte ein Datum ohne Uhrzeit eingeben."),
    "datetime_parsing": N_("Bitte Datum und Uhrzeit eingeben."),
    "datetime_type": N_("Bitte Datum und Uhrzeit eingeben."),
    "datetime_from_date_parsing": N_("Bitte Datum und Uhrzeit eingeben."),
    "timezone_aware": N_("Bitte eine Uhrzeit mit Zeitzone angeben."),
    "list_type": N_("Bitte eine Auswahl treffen."),
    "dict_type": N_("Die Angaben sind unvollständig."),
    "model_attributes_type": N_("Die Angaben sind unvollständig."),
    "json_invalid": N_("Die Angaben sind kein gültiges JSON."),
    "extra_forbidden": N_("Dieses Feld ist hier nicht vorgesehen."),
    "invalid_characters": N_("Bitte ohne Steuer- oder unsichtbare Zeichen eingeben."),
    "formula_prefix": N_("Bitte nicht mit =, +, - oder @ beginnen."),
    "date_window": N_("Dieses Datum liegt außerhalb des erlaubten Zeitraums."),
    "url_parsing": N_("Bitte eine vollständige Adresse eingeben, z. B. https://…"),
    "url_scheme": N_("Bitte eine vollständige Adresse eingeben, z. B. https://…"),
    "value_error": N_("Dieser Wert ist nicht gültig."),
}
GENERAL = N_("Dieser Wert ist nicht gültig.")


def field_of(err: Mapping[str, Any]) -> str:
    """The form field an error belongs to (the last name in its location)."""
    names = [str(p) for p in err.get("loc", ()) if isinstance(p, str)]
    names = [n for n in names if n not in ("body", "query", "path", "form", "header", "cookie")]
    return names[-1] if names else ""


def label(lang: str, field: str) -> str:
    msgid = FIELD_LABELS.get(field)
    return i18n.translate(lang, msgid) if msgid else field


def explain(lang: str, err: Mapping[str, Any]) -> str:
    """One error in a sentence for people; the field's format hint where the form has one."""
    kind, field = str(err.get("type", "")), field_of(err)
    if field in FORMAT_HINTS and kind not in _NOT_FORMAT:
        return i18n.translate(lang, FORMAT_HINTS[field])
    text = i18n.translate(lang, TYPE_TEXT.get(kind, GENERAL))
    ctx = {k: _number(v) for k, v in (err.get("ctx") or {}).items()}
    try:
        return text % ctx if "%(" in text else text
    except (KeyError, ValueError, TypeError):  # a context we did not expect: say it plainly
        return i18n.translate(lang, GENERAL)


def _number(value: object) -> object:
    """50.0 → 50, so a limit reads as people write it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def field_errors(exc: ValidationError, lang: str) -> dict[str, str]:
    """Per form field the first problem, as 'Label: explanation'."""
    found: dict[str, str] = {}
    for err in exc.errors():
        field = field_of(err)
        found.setdefault(field, f"{label(lang, field)}: {explain(lang, err)}")
    return found
