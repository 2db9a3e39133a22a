"""A seeded batch of synthetic online applications, mixed like real ones (bench/applications.py).

Applicants come from the synthetic registers (data/<city>/registers/, read with
casework/registers.py). The answers to a form's own steps are drawn from the form file's field
definitions (types, choices, bounds, show_if/required_if), so a new form file joins the batch
without code here. Faults are planted on purpose and recorded with each application, so the
bench knows which cases are clear and what a careful clerk who knows everything would decide.

Three small tables know a service's meaning, and each is marked as an assumption where it is
one: who is a clear applicant (`CLEAR`), which answers follow the registers (`LINKED`), and how
often some answers come (`ANSWER_WEIGHTS`, `OPTIONAL_SHARE`). A form without entries still
works: an adult at the main residence answering at random within the file's bounds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from servicepoint.casework import logic, registers
from servicepoint.casework.formspec import FormField, FormSpec, load_forms
from servicepoint.casework.registers import Registers, Resident

SEED = 15
BATCH = 1000

# ASSUMPTION, not a published figure: how the online requests for these five services might
# split in a Bürgeramt outside an election peak (certificates of registration most often,
# postal votes in the months before an election, the rest steady but smaller).
SERVICE_MIX = {
    "meldebescheinigung": 36,
    "briefwahl": 24,
    "bewohnerparkausweis": 16,
    "hundesteuer": 14,
    "uebermittlungssperren": 10,
}

# ASSUMPTION: how often some answers come, where a uniform draw would be unlike real
# applications (most certificates are simple ones, few dogs are declared dangerous).
ANSWER_WEIGHTS: dict[str, dict[str, dict[Any, int]]] = {
    "meldebescheinigung": {"kind": {"simple": 85, "extended": 15}},
    "briefwahl": {"delivery": {"home": 85, "other": 15}},
    "bewohnerparkausweis": {
        "keeper": {"self": 75, "employer": 15, "other": 10},
        "renewal": {False: 60, True: 40},
    },
    "hundesteuer": {
        "action": {"register": 60, "deregister": 40},
        "dangerous": {False: 97, True: 3},
        "reason": {"died": 45, "given_away": 30, "moved_away": 25},
    },
}
# ASSUMPTION: the share of applicants who fill in an optional field (default one in two).
OPTIONAL_SHARE = {"second_plate": 0.1, "delivery_country": 0.3, "delivery_name": 0.3}

Expected = Literal["approved", "rejected", "invalid"]
FREE_TEXT = ("textarea",)
BEHALF = "Ich stelle diesen Antrag für eine andere Person, die selbst keinen Internetzugang hat."
UPLOAD = b"%PDF-1.4\n% synthetic upload for the bench\n%%EOF\n"


@dataclasses.dataclass(frozen=True)
class Application:
    """One generated application and what the generator knows about it."""

    n: int
    service_id: str
    fault: str  # "" = a clear case
    applicant: dict[str, str]
    data: dict[str, Any]
    uploads: tuple[str, ...]  # the uploads these answers need (sent with the draft)
    expected: Expected  # what a careful clerk who knows everything decides (invalid = 422)

    @property
    def clear(self) -> bool:
        return not self.fault


# --- who applies ------------------------------------------------------------------------------

Pick = Callable[[Registers, Resident, Mapping[str, Any], dt.date], bool]


def _age(r: Resident, today: dt.date) -> int:
    return registers.age_on(r.birth_date, today)


def _adult_main(regs: Registers, r: Resident, answers: Mapping[str, Any], today: dt.date) -> bool:
    return r.residence == "main" and _age(r, today) >= 18


def _current_dogs(regs: Registers, r: Resident, today: dt.date) -> list[str]:
    return [d.dog_name for d in regs.dogs.get(r.id, ()) if d.current(today)]


def _in_zone(regs: Registers, r: Resident) -> bool:
    return registers.zone_of(regs, r.street, r.house_number) is not None


# Who is a clear case (no entry: an adult at the main residence). A parking permit needs an
# address in a zone, a postal vote a place on the roll and none issued yet, deregistering a dog
# a dog on record.
CLEAR: dict[str, Pick] = {
    "bewohnerparkausweis": lambda regs, r, a, today: (
        _adult_main(regs, r, a, today) and _in_zone(regs, r)
    ),
    "briefwahl": lambda regs, r, a, today: (
        _adult_main(regs, r, a, today)
        and r.id in regs.roll
        and regs.roll[r.id].listed
        and not regs.roll[r.id].postal_vote_issued
    ),
    "hundesteuer": lambda regs, r, a, today: (
        _adult_main(regs, r, a, today)
        and (a.get("action") != "deregister" or bool(_current_dogs(regs, r, today)))
    ),
}


@dataclasses.dataclass(frozen=True)
class Fault:
    name: str
    weight: int  # per 100 applications of the services it applies to
    what: str  # in German: the simulated clerk gives it as the reason of a rejection
    services: tuple[str, ...] = ()  # () = every service
    pick: Pick | None = None  # who applies (None: a clear applicant)
    expected: Expected = "rejected"


# ASSUMPTION, not a measured figure: which faults come and how often (per 100 applications of
# the services each applies to); the rest, about four in five, are clear cases. A clerk who
# knows the fault rejects (the system lets staff approve or reject a case as filed, and an
# approval would certify what is wrong), except an incomplete one, which the API refuses (422).
FAULTS = (
    Fault("address_typo", 6, "Die Hausnummer stimmt nicht mit dem Melderegister überein."),
    Fault("unknown_person", 5, "Die Person ist im Melderegister nicht gemeldet."),
    Fault(
        "minor",
        3,
        "Ein Kind unter 15 Jahren kann den Antrag nicht allein stellen.",
        pick=lambda regs, r, a, today: _age(r, today) < 15,
    ),
    Fault("incomplete", 2, "Eine Pflichtangabe fehlt.", expected="invalid"),
    Fault(
        "on_behalf",
        4,
        "Der Antrag ist laut Freitext für eine andere Person gestellt.",
        ("hundesteuer",),
    ),
    Fault(
        "outside_zone",
        15,
        "Die Anschrift liegt in keiner Bewohnerparkzone.",
        ("bewohnerparkausweis",),
        pick=lambda regs, r, a, today: _adult_main(regs, r, a, today) and not _in_zone(regs, r),
    ),
    Fault(
        "vote_issued",
        6,
        "Ein Wahlschein ist bereits ausgestellt.",
        ("briefwahl",),
        pick=lambda regs, r, a, today: (
            _adult_main(regs, r, a, today)
            and r.id in regs.roll
            and regs.roll[r.id].postal_vote_issued
        ),
    ),
    Fault(
        "not_eligible",
        5,
        "Keine Staatsangehörigkeit eines EU-Staates: nicht wahlberechtigt.",
        ("briefwahl",),
        pick=lambda regs, r, a, today: (
            _adult_main(regs, r, a, today) and r.nationality not in regs.eu
        ),
    ),
    Fault(
        "no_dog_on_record",
        8,
        "Unter diesem Namen ist für die Person kein Hund angemeldet.",
        ("hundesteuer",),
        pick=lambda regs, r, a, today: (
            _adult_main(regs, r, a, today) and a.get("action") == "deregister"
        ),
    ),
)
FAULT_REASONS = {f.name: f.what for f in FAULTS}


def _as_applicant(r: Resident, n: int) -> dict[str, str]:
    return {
        "given_name": r.given_name,
        "family_name": r.family_name,
        "birth_date": r.birth_date.isoformat(),
        "email": f"antrag{n:04d}@example.org",
        "street": r.street,
        "house_number": r.house_number,
        "postcode": r.postcode,
        "city": r.city,
    }


def _unknown_person(rng: random.Random, regs: Registers) -> Resident:
    """A name and birth date the register does not hold, at an address that exists."""
    while True:
        first, family, home = (rng.choice(regs.residents) for _ in range(3))
        born = dt.date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
        person = home.model_copy(
            update={
                "given_name": first.given_name,
                "family_name": family.family_name,
                "birth_date": born,
            }
        )
        if registers.find_resident(regs, _as_applicant(person, 0))[0] is None:
            return person


def _other_house_number(rng: random.Random, house_number: str) -> str:
    number = registers.house_number_part(house_number) or 1
    return str(max(1, number + rng.choice([-2, -1, 1, 2, 10])))


# --- answers drawn from the form file -------------------------------------------------------------

WORDS = ("Tierheim", "Hannover", "Straße", "Nachbarin", "Familie", "Züchterin", "Versicherung")


def _text(spec: FormField, rng: random.Random) -> str:
    low = spec.min_length or 1
    high = max(low, min(spec.text_limit, 40 if spec.type == "text" else 120))
    size = rng.randint(low, high)
    if spec.digits:
        return "".join(rng.choice("0123456789") for _ in range(size))
    text = rng.choice(WORDS)
    while len(text) < size:
        text += " " + rng.choice(WORDS)
    return text[:size].strip().ljust(low, "x")


def _date(spec: FormField, rng: random.Random, today: dt.date) -> str:
    if spec.past:
        return (today - dt.timedelta(days=rng.randint(1, 3650))).isoformat()
    if spec.future:
        return (today + dt.timedelta(days=rng.randint(0, 60))).isoformat()
    return (today - dt.timedelta(days=rng.randint(-14, 60))).isoformat()


def draw_value(spec: FormField, rng: random.Random, today: dt.date, weights: Any = None) -> Any:
    """A valid answer of the field's type within the file's bounds."""
    if weights:
        return rng.choices(list(weights), weights=list(weights.values()))[0]
    if spec.type == "boolean":
        return True if spec.required else rng.random() < 0.5
    if spec.type == "choice":
        return rng.choice(spec.choices).value
    if spec.type == "multichoice":
        values = [c.value for c in spec.choices]
        return sorted(rng.sample(values, rng.randint(1, len(values))), key=values.index)
    if spec.type == "integer":
        low = spec.min if spec.min is not None else 0
        high = spec.max if spec.max is not None else low + 5
        return rng.randint(low, min(high, low + 5))
    if spec.type == "date":
        return _date(spec, rng, today)
    if spec.type == "email":
        return f"kontakt{rng.randint(1, 9999)}@example.org"
    return _text(spec, rng)


def draw_answers(
    form: FormSpec, rng: random.Random, today: dt.date, *, fixed: Mapping[str, Any] = {}
) -> dict[str, Any]:
    """Answers to the form's own steps: every shown field that is required, some of the
    optional ones; hidden fields are left out, as the form would not ask them."""
    own = [f for step in form.steps for f in step.fields]
    weights = ANSWER_WEIGHTS.get(form.service_id, {})
    drawn = {f.name: draw_value(f, rng, today, weights.get(f.name)) for f in own} | dict(fixed)
    kept = {f.name for f in own if rng.random() < OPTIONAL_SHARE.get(f.name, 0.5)}
    answers: dict[str, Any] = {}
    for _ in range(len(own) + 1):  # until what is shown no longer changes
        values = logic.flat_values(form, answers)
        shown = {
            f.name: drawn[f.name]
            for f in own
            if logic.visible(f, values)
            and (f.name in kept or f.type == "boolean" or logic.required(f, values))
        }
        if shown == answers:
            break
        answers = shown
    return answers


# Answers that must agree with the registers for a case to be clear (who applies is known by
# then): the zone of the address, the dog's name.
def _link_parking(regs: Registers, r: Resident, answers: dict[str, Any], rng: random.Random,
                  today: dt.date) -> None:  # fmt: skip
    zone = registers.zone_of(regs, r.street, r.house_number)
    if zone is not None and "zone" in answers:
        answers["zone"] = zone.id


def _link_dogs(regs: Registers, r: Resident, answers: dict[str, Any], rng: random.Random,
               today: dt.date) -> None:  # fmt: skip
    dogs = _current_dogs(regs, r, today)
    fold = regs.folding.name
    if answers.get("action") == "deregister" and dogs:
        answers["dog_name"] = rng.choice(dogs)
    elif answers.get("action") == "register":
        names = [n for n in ("Bello", "Luna", "Balu", "Nala", "Kira", "Oskar", "Mila", "Bruno")
                 if fold(n) not in {fold(d) for d in dogs}]  # fmt: skip
        answers["dog_name"] = rng.choice(names)
        if "other_dogs" in answers:
            answers["other_dogs"] = bool(dogs)


Link = Callable[[Registers, Resident, dict[str, Any], random.Random, dt.date], None]
LINKED: dict[str, Link] = {"bewohnerparkausweis": _link_parking, "hundesteuer": _link_dogs}


# --- one application and the batch -----------------------------------------------------------


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _free_text(form: FormSpec, answers: Mapping[str, Any]) -> list[str]:
    return [k for k in answers if form.fields[k].type in FREE_TEXT]


def _answers_for(form: FormSpec, fault: str, rng: random.Random, today: dt.date) -> dict[str, Any]:
    """Answers that can carry the fault: a deregistration for a dog not on record, a
    free-text answer to write prose into."""
    fixed = {"action": "deregister"} if fault == "no_dog_on_record" else {}
    for _ in range(20):
        answers = draw_answers(form, rng, today, fixed=fixed)
        if fault != "on_behalf" or _free_text(form, answers):
            return answers
    return answers


def _applicant(
    fault: Fault | None,
    service_id: str,
    regs: Registers,
    answers: dict[str, Any],
    rng: random.Random,
    today: dt.date,
    n: int,
) -> dict[str, str]:
    if fault is not None and fault.name == "unknown_person":
        person = _unknown_person(rng, regs)
    else:
        pick = fault.pick if fault and fault.pick else CLEAR.get(service_id, _adult_main)
        person = rng.choice([r for r in regs.residents if pick(regs, r, answers, today)])
    if fault is not None and fault.name == "no_dog_on_record":
        held = {regs.folding.name(d) for d in _current_dogs(regs, person, today)}
        answers["dog_name"] = rng.choice(
            [w for w in ("Rex", "Hasso", "Wuffi") if regs.folding.name(w) not in held]
        )
    elif service_id in LINKED:
        LINKED[service_id](regs, person, answers, rng, today)
    return _as_applicant(person, n)


def _plant(fault: str, form: FormSpec, app: dict[str, Any], rng: random.Random) -> None:
    """Faults in the answers rather than in who applies."""
    if fault == "address_typo":
        applicant = app["applicant"]
        applicant["house_number"] = _other_house_number(rng, applicant["house_number"])
    elif fault == "on_behalf":
        app["data"][rng.choice(_free_text(form, app["data"]))] = BEHALF
    elif fault == "incomplete":
        values = logic.flat_values(form, {**app["applicant"], **app["data"]})
        needed = [k for k in app["data"] if logic.required(form.fields[k], values)]
        if needed:
            del app["data"][rng.choice(needed)]
        else:
            del app["applicant"]["birth_date"]


def one(
    n: int, service_id: str, form: FormSpec, regs: Registers, rng: random.Random, today: dt.date
) -> Application:
    faults = {f.name: f for f in FAULTS if not f.services or service_id in f.services}
    clear_share = max(0, 100 - sum(f.weight for f in faults.values()))
    name = _weighted(rng, {"": clear_share} | {k: f.weight for k, f in faults.items()})
    fault = faults.get(name)
    answers = _answers_for(form, name, rng, today)
    app: dict[str, Any] = {
        "applicant": _applicant(fault, service_id, regs, answers, rng, today, n),
        "data": answers,
    }
    _plant(name, form, app, rng)
    values = logic.flat_values(form, {**app["applicant"], **app["data"]})
    return Application(
        n=n,
        service_id=service_id,
        fault=name,
        applicant=app["applicant"],
        data=app["data"],
        uploads=tuple(logic.required_uploads(form, values)),
        expected=fault.expected if fault else "approved",
    )


def generate(
    city_dir: Path, *, today: dt.date, count: int = BATCH, seed: int = SEED
) -> list[Application]:
    """`count` applications: the same ones for the same seed, files and day."""
    forms = load_forms(city_dir)
    regs = registers.load_registers(city_dir)
    mix = {s: w for s, w in SERVICE_MIX.items() if s in forms}
    mix |= {s: 10 for s in forms if s not in SERVICE_MIX}  # a new form: a small share
    rng = random.Random(seed)
    batch = []
    for n in range(count):
        service_id = _weighted(rng, mix)
        batch.append(one(n, service_id, forms[service_id], regs, rng, today))
    return batch
