"""The admin form for a service: the bounded form fields, the ServiceFile record they make, and
its validation errors in words per form field. The catalog's data-file model (ServiceFile) is the
one judge of a service; this module only maps form fields to its shape and back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from starlette.datastructures import FormData

from servicepoint.catalog.datafile import CHANNELS, Channel, ServiceFile
from servicepoint.core import i18n
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import LongText, ShortText, blank_is_none
from servicepoint.web import form_errors

# The new-service form lives at /verwaltung/leistungen/neu, so no service may be called that.
RESERVED_IDS = frozenset({"neu"})

LABELS = {
    "id": N_("Kennung"),
    "slug": N_("Adresse der Seite (Slug)"),
    "name_de": N_("Name (Deutsch)"),
    "name_en": N_("Name (Englisch)"),
    "summary_de": N_("Kurzbeschreibung (Deutsch)"),
    "summary_en": N_("Kurzbeschreibung (Englisch)"),
    "description_de": N_("Beschreibung (Deutsch)"),
    "description_en": N_("Beschreibung (Englisch)"),
    "channels": N_("Wege"),
    "appointment_minutes": N_("Termindauer in Minuten"),
    "authority_de": N_("Zuständige Stelle (Deutsch)"),
    "authority_en": N_("Zuständige Stelle (Englisch)"),
    "phone": N_("Telefon der zuständigen Stelle"),
    "online_url": N_("Adresse des Online-Dienstes"),
}
WHOLE = N_("Leistung")  # an error of the record as a whole
TEXT_FIELDS = tuple(k for k in LABELS if k not in ("channels", "appointment_minutes"))
PATTERN_HINTS = {
    "id": N_("Bitte nur Kleinbuchstaben, Ziffern und Bindestriche (2–64 Zeichen) verwenden."),
    "slug": N_("Bitte nur Kleinbuchstaben, Ziffern und Bindestriche (2–81 Zeichen) verwenden."),
}
# The data-file model's checks across fields, by their error type (ServiceFile._consistent):
# the form field each concerns and what the editor is told.
RULES = {
    "online_needs_url": (
        "online_url",
        N_("Für den Weg „online“ bitte die Adresse des Online-Dienstes angeben."),
    ),
    "online_needs_tutorial": (
        "channels",
        N_(
            "Ein Online-Angebot braucht eine Schritt-für-Schritt-Anleitung; "
            "sie wird in der Datendatei der Leistung gepflegt."
        ),
    ),
    "appointment_needs_minutes": (
        "appointment_minutes",
        N_("Für den Weg „Termin“ bitte die Termindauer in Minuten angeben."),
    ),
}
# ServiceFile's de/en texts whose halves are form fields (name → name_de, name_en).
_PAIRS = frozenset({"name", "summary", "description"})
# The responsible authority's parts (ServiceFile.responsible) on the form.
_AUTHORITY = {"name": "authority_de", "name.de": "authority_de", "name.en": "authority_en"}
CHANNEL_LABELS = {
    "online": N_("online"),
    "appointment": N_("Termin im Bürgeramt"),
    "video": N_("Beratung per Video"),
    "mobile": N_("Mobiler ServicePoint"),
    "external": N_("Zuständig ist eine andere Stelle"),
}


def _link(value: str) -> str:
    """A web address or a path of this site: what a link on the service page may lead to (no
    javascript: or data: address)."""
    ours = value.startswith("/") and not value.startswith("//")
    if value and not (ours or value.startswith(("https://", "http://"))):
        raise PydanticCustomError("url_scheme", "must be an http(s) address or a path")
    return value


class ServiceForm(BaseModel):
    """What the form sends, bounded before anything reads it; empty text means "not given"."""

    model_config = ConfigDict(extra="ignore")

    id: ShortText = ""
    slug: ShortText = ""
    name_de: ShortText = ""
    name_en: ShortText = ""
    summary_de: LongText = ""
    summary_en: LongText = ""
    description_de: LongText = ""
    description_en: LongText = ""
    channels: list[Channel] = Field(default_factory=list, max_length=len(CHANNELS))
    appointment_minutes: Annotated[
        Annotated[int, Field(ge=5, le=240)] | None, BeforeValidator(blank_is_none)
    ] = None
    authority_de: ShortText = ""
    authority_en: ShortText = ""
    phone: Annotated[ShortText, Field(max_length=40)] = ""
    online_url: Annotated[ShortText, AfterValidator(_link)] = ""

    @classmethod
    def parse(cls, form: FormData) -> ServiceForm:
        """Read the posted form (channels are checkboxes: one value each)."""
        values: dict[str, Any] = {k: str(form.get(k) or "") for k in TEXT_FIELDS}
        values["appointment_minutes"] = str(form.get("appointment_minutes") or "")
        values["channels"] = [str(v) for v in form.getlist("channels")][: len(CHANNELS) + 1]
        return cls.model_validate(values)


def _text(de: str, en: str) -> dict[str, str]:
    """A de/en pair; an empty half is left out, so the model says it is missing."""
    return {k: v for k, v in (("de", de), ("en", en)) if v}


def record_data(form: ServiceForm, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ServiceFile fields from the form, over `base` (the stored record when editing: its
    documents, fees, tutorial, keywords and the like stay as they are)."""
    data = dict(base or {})
    responsible = dict(data.get("responsible") or {})
    responsible["name"] = _text(form.authority_de, form.authority_en)
    responsible["phone"] = form.phone or None
    description = _text(form.description_de, form.description_en)
    data.update(
        slug=form.slug,
        name=_text(form.name_de, form.name_en),
        summary=_text(form.summary_de, form.summary_en),
        description=description or None,
        channels=list(form.channels),
        appointment_minutes=form.appointment_minutes,
        online_url=form.online_url or None,
        responsible=responsible,
    )
    data.setdefault("id", form.id)
    return data


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the form shows it."""
    resp = data.get("responsible") or {}
    values: dict[str, Any] = {"id": data.get("id", ""), "slug": data.get("slug", "")}
    for key, pair in (
        ("name", data.get("name")),
        ("summary", data.get("summary")),
        ("description", data.get("description")),
        ("authority", resp.get("name")),
    ):
        values[f"{key}_de"] = (pair or {}).get("de", "")
        values[f"{key}_en"] = (pair or {}).get("en", "")
    values["phone"] = resp.get("phone") or ""
    values["online_url"] = data.get("online_url") or ""
    values["channels"] = list(data.get("channels") or [])
    values["appointment_minutes"] = data.get("appointment_minutes") or ""
    return values


@dataclass
class FormErrors:
    """Per form field its first problem, in the page's language ("" for the whole record)."""

    lang: str
    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, message)

    def add_msgid(self, name: str, msgid: str) -> None:
        self.add(name, i18n.translate(self.lang, msgid))

    def add_validation(self, exc: ValidationError) -> None:
        for err in exc.errors():
            name = form_field(err)
            if name is None:
                name, msgid = RULES.get(err["type"], ("", form_errors.GENERAL))
                self.add_msgid(name, msgid)
            elif err["type"] == "string_pattern_mismatch" and name in PATTERN_HINTS:
                self.add_msgid(name, PATTERN_HINTS[name])
            else:
                self.add(name, form_errors.explain(self.lang, err))

    def summary(self) -> list[tuple[str, str, str]]:
        """(link, label, message) for the error summary, in the form's order."""
        order = ["", *LABELS]
        names = sorted(self.by_field, key=lambda n: order.index(n) if n in order else 0)
        return [
            (
                f"#f-{n}" if n else "#f-name_de",
                i18n.translate(self.lang, LABELS.get(n, WHOLE)),
                self.by_field[n],
            )
            for n in names
        ]


def form_field(err: Mapping[str, Any]) -> str | None:
    """The form field of an error of ServiceForm or ServiceFile; None for a check across
    fields (the model's own, which names no field); "" for a field the form does not show."""
    loc = [str(p) for p in err.get("loc", ()) if isinstance(p, str)]
    if not loc:
        return None
    head, rest = loc[0], ".".join(loc[1:])
    if head == "responsible":
        return "phone" if rest == "phone" else _AUTHORITY.get(rest, "authority_de")
    if head in _PAIRS:
        # "name.en" is the field name_en; for the whole pair ("name" missing) its first field
        head = f"{head}_{loc[1] if len(loc) > 1 else 'de'}"
    return head if head in LABELS else ""


def validate(form: ServiceForm, base: Mapping[str, Any] | None = None) -> ServiceFile:
    """The form as a catalog record, judged by the data-file model (raises ValidationError)."""
    return ServiceFile.model_validate(record_data(form, base))
