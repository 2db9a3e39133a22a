"""Write the SYNTHETIC registers of the default city (data/hannover/registers/).

No real persons: names are drawn from lists of common first and family names, birth dates and
house numbers at random. The streets are real Hannover streets (public facts); which postcode a
street gets and which streets form a residents' parking zone is synthetic. A fixed seed makes
every run write the same files, so tests and the bench can name persons:

    .venv/bin/python scripts/make_registers.py

The first persons are fixed (see FIXED and registers/README.md); the rest are households drawn
at random. The electoral roll belongs to a made-up election (ELECTION), not a real one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "servicepoint" / "data" / "hannover" / "registers"
SEED = 15  # issue 15
TODAY = dt.date(2026, 12, 1)  # registrations end here: the registers' "as of" date
HOUSEHOLDS = 125  # with the fixed persons: about 250 residents

EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
      "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}  # fmt: skip

# Name pools: (weight, nationality most members hold, family names, female, male first names).
POOLS = [
    (60, "DE",
     ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
      "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun",
      "Zimmermann", "Krüger", "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Köhler",
      "Meier", "Wilke", "Brandt", "Böhm", "Heine", "Oltmanns", "Ahrens", "Janssen", "Behrens",
      "Lüders", "Büttner", "Dietrich", "Voß", "Niemeyer"],
     ["Anna", "Maria", "Julia", "Laura", "Lena", "Sophie", "Katharina", "Sabine", "Petra",
      "Monika", "Ursula", "Claudia", "Nicole", "Sandra", "Jana", "Hanna", "Mia", "Emma", "Greta",
      "Marie-Luise", "Ingrid", "Renate", "Birgit", "Charlotte", "Frieda"],
     ["Thomas", "Michael", "Andreas", "Stefan", "Jan", "Lukas", "Felix", "Jonas", "Paul",
      "Klaus", "Jürgen", "Wolfgang", "Peter", "Frank", "Tobias", "Niklas", "Ben", "Finn", "Noah",
      "Karl-Heinz", "Dieter", "Sven", "Matthias", "Henrik", "Ole"]),
    (10, "TR",
     ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Arslan", "Doğan",
      "Koç", "Kurt"],
     ["Ayşe", "Elif", "Zeynep", "Fatma", "Emine", "Merve", "Esra", "Derya"],
     ["Mehmet", "Mustafa", "Ahmet", "Emre", "Can", "Burak", "Kemal", "Murat"]),
    (8, "PL",
     ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński",
      "Szymański"],
     ["Agnieszka", "Katarzyna", "Małgorzata", "Joanna", "Magdalena", "Zofia"],
     ["Piotr", "Krzysztof", "Tomasz", "Paweł", "Michał", "Łukasz"]),
    (5, "IT",
     ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo"],
     ["Giulia", "Francesca", "Chiara", "Sara"],
     ["Marco", "Luca", "Giuseppe", "Alessandro"]),
    (5, "SY",
     ["Al-Ahmad", "Haddad", "Khalil", "Hassan", "Ibrahim", "Mansour"],
     ["Rania", "Lina", "Noor", "Yasmin", "Huda"],
     ["Omar", "Khaled", "Ahmad", "Yusuf", "Samir"]),
    (5, "UA",
     ["Kovalenko", "Bondarenko", "Tkachenko", "Shevchenko", "Melnyk", "Kravchenko"],
     ["Olena", "Iryna", "Oksana", "Natalia", "Daryna"],
     ["Oleksandr", "Andrii", "Dmytro", "Serhii", "Mykola"]),
    (4, "GR",
     ["Papadopoulos", "Georgiou", "Nikolaidis", "Dimitriou", "Konstantinidis"],
     ["Eleni", "Maria", "Sofia", "Dimitra"],
     ["Giorgos", "Nikos", "Dimitris", "Kostas"]),
    (3, "VN",
     ["Nguyen", "Tran", "Le", "Pham", "Hoang"],
     ["Lan", "Mai", "Thu", "Linh"],
     ["Minh", "Duc", "Tuan", "Hung"]),
]  # fmt: skip

# (street, synthetic postcode, highest house number drawn).
STREETS = [
    ("Lister Meile", "30161", 90), ("Bödekerstraße", "30161", 100), ("Voßstraße", "30161", 60),
    ("Spichernstraße", "30161", 30), ("Celler Straße", "30161", 120),
    ("Podbielskistraße", "30163", 380), ("Kollenrodtstraße", "30163", 70),
    ("Jakobistraße", "30163", 60), ("Ferdinand-Wallbrecht-Straße", "30163", 90),
    ("Vahrenwalder Straße", "30165", 300), ("Engelbosteler Damm", "30167", 130),
    ("Königsworther Platz", "30167", 6), ("Sallstraße", "30171", 100),
    ("Marienstraße", "30171", 90), ("Stephansplatz", "30171", 12),
    ("Hildesheimer Straße", "30169", 260), ("Geibelstraße", "30173", 80),
    ("Altenbekener Damm", "30173", 90), ("Alte Döhrener Straße", "30173", 70),
    ("Calenberger Straße", "30169", 40), ("Goethestraße", "30169", 50),
    ("Lange Laube", "30159", 30), ("Limmerstraße", "30451", 110),
    ("Kötnerholzweg", "30451", 60), ("Elisenstraße", "30451", 60), ("Fössestraße", "30451", 120),
    ("Davenstedter Straße", "30453", 200), ("Wunstorfer Straße", "30453", 120),
    ("Deisterstraße", "30449", 80), ("Am Küchengarten", "30449", 20),
    ("Sutelstraße", "30659", 80), ("Kirchröder Straße", "30625", 120),
    ("Tiergartenstraße", "30559", 120), ("Emmichplatz", "30175", 5),
]  # fmt: skip

# Residents' parking zones: synthetic ids and names; (street, from, to) with None = whole street.
ZONES = [
    ("BPZ-L1", "List-Süd", "List south",
     [("Lister Meile", None, None), ("Bödekerstraße", None, None), ("Voßstraße", None, None),
      ("Spichernstraße", None, None), ("Celler Straße", 1, 80)]),
    ("BPZ-L2", "List-Nord", "List north",
     [("Podbielskistraße", 1, 200), ("Kollenrodtstraße", None, None),
      ("Jakobistraße", None, None), ("Ferdinand-Wallbrecht-Straße", None, None)]),
    ("BPZ-S1", "Südstadt-Nord", "Südstadt north",
     [("Sallstraße", None, None), ("Marienstraße", None, None), ("Stephansplatz", None, None),
      ("Hildesheimer Straße", 1, 119), ("Geibelstraße", None, None)]),
    ("BPZ-C1", "Calenberger Neustadt", "Calenberger Neustadt",
     [("Calenberger Straße", None, None), ("Goethestraße", None, None),
      ("Lange Laube", None, None)]),
    ("BPZ-N1", "Nordstadt", "Nordstadt",
     [("Engelbosteler Damm", 1, 100), ("Königsworther Platz", None, None)]),
    ("BPZ-LN", "Linden-Nord", "Linden-Nord",
     [("Limmerstraße", None, None), ("Kötnerholzweg", None, None), ("Elisenstraße", None, None),
      ("Fössestraße", 1, 50)]),
]  # fmt: skip

ELECTION = {
    "id": "testwahl-2027",
    "name_de": "Testwahl (synthetisch)",
    "name_en": "Test election (synthetic)",
    "date": dt.date(2027, 9, 26),
    "deadline": dt.date(2027, 9, 24),
    "min_age": 16,
}

DOG_NAMES = ["Bello", "Luna", "Balu", "Emma", "Paul", "Nala", "Lucky", "Kira", "Sammy", "Frieda",
             "Buddy", "Maja", "Rocky", "Lotte", "Oskar", "Bruno", "Mila", "Charly", "Aika",
             "Tarzan"]  # fmt: skip
BREEDS = ["Mischling", "Labrador Retriever", "Dackel", "Deutscher Schäferhund", "Golden Retriever",
          "Jack Russell Terrier", "Französische Bulldogge", "Border Collie", "Beagle", "Pudel",
          "Chihuahua", "Australian Shepherd"]  # fmt: skip


HEADER = "# SYNTHETIC – no real persons. Written by scripts/make_registers.py – edit that.\n"


@dataclass
class Person:
    id: str
    given_name: str
    family_name: str
    birth_date: dt.date
    street: str
    house_number: str
    postcode: str
    residence: str = "main"
    nationality: str = "DE"
    registered_since: dt.date = dt.date(2010, 1, 1)
    transfer_block: bool = False
    roll: dict[str, object] = field(default_factory=dict)  # overrides of the electoral roll
    dogs: list[tuple[str, str, bool, dt.date, dt.date | None]] = field(default_factory=list)


d = dt.date
# Fixed persons that tests, the bench and the browser tests name (README lists what each shows).
FIXED = [
    Person("R0001", "Erika", "Mustermann", d(1964, 8, 12), "Lister Meile", "10", "30161",
           registered_since=d(1995, 4, 1)),
    Person("R0002", "Max", "Mustermann", d(1962, 3, 3), "Lister Meile", "10", "30161",
           registered_since=d(1995, 4, 1),
           dogs=[("Bello", "Labrador Retriever", False, d(2019, 5, 1), None)]),
    Person("R0003", "Leon", "Mustermann", d(2012, 5, 20), "Lister Meile", "10", "30161",
           registered_since=d(2012, 5, 20)),
    Person("R0004", "Ayşe", "Yılmaz", d(1988, 11, 2), "Limmerstraße", "45", "30451",
           nationality="TR", registered_since=d(2014, 9, 1)),
    Person("R0005", "Piotr", "Nowak", d(1979, 1, 15), "Sallstraße", "12a", "30171",
           nationality="PL", registered_since=d(2017, 2, 1)),
    Person("R0006", "Jonas", "Schmidt", d(2001, 7, 9), "Bödekerstraße", "20", "30161",
           residence="secondary", registered_since=d(2021, 10, 1)),
    Person("R0007", "Lena", "Wagner", d(1990, 4, 30), "Podbielskistraße", "150", "30163",
           registered_since=d(2016, 6, 1), roll={"postal_vote_issued": True}),
    Person("R0008", "Kemal", "Demir", d(1975, 12, 1), "Davenstedter Straße", "88", "30453",
           registered_since=d(2003, 3, 1)),
    Person("R0009", "Ingrid", "Behrens", d(1941, 2, 14), "Geibelstraße", "7", "30173",
           registered_since=d(1970, 1, 1), transfer_block=True),
    Person("R0010", "Sven", "Krüger", d(1983, 9, 23), "Vahrenwalder Straße", "101", "30165",
           registered_since=d(2008, 8, 1),
           dogs=[("Rocky", "Mischling", True, d(2022, 3, 1), None),
                 ("Luna", "Beagle", False, d(2020, 1, 15), None),
                 ("Aika", "Pudel", False, d(2012, 4, 1), d(2023, 11, 30))]),
    Person("R0011", "Katarzyna", "Wiśniewska", d(1995, 6, 18), "Engelbosteler Damm", "33",
           "30167", nationality="PL", registered_since=d(2026, 11, 20),
           roll={"listed": False}),
]  # fmt: skip


def _birth(rng: random.Random, low: int, high: int) -> dt.date:
    """A birth date for someone aged `low`..`high` at TODAY."""
    start = TODAY.replace(year=TODAY.year - high - 1) + dt.timedelta(days=1)
    end = TODAY.replace(year=TODAY.year - low)
    return start + dt.timedelta(days=rng.randrange((end - start).days))


def _house_number(rng: random.Random, top: int) -> str:
    number = str(rng.randint(1, top))
    return number + rng.choice("ab") if rng.random() < 0.08 else number


def _household(rng: random.Random, next_id: list[int]) -> list[Person]:
    pool = rng.choices(POOLS, weights=[p[0] for p in POOLS])[0]
    _, nationality, families, women, men = pool
    family = rng.choice(families)
    street, postcode, top = rng.choice(STREETS)
    number = _house_number(rng, top)
    since = TODAY - dt.timedelta(days=rng.randrange(30, 365 * 30))
    residence = "secondary" if rng.random() < 0.1 else "main"
    size = rng.choices([1, 2, 3, 4, 5], weights=[42, 32, 13, 10, 3])[0]
    ages = [(18, 92)] if size == 1 else [(22, 85), (22, 85)] + [(0, 17)] * (size - 2)
    members = []
    for low, high in ages[:size]:
        female = rng.random() < 0.5
        given = rng.choice(women if female else men)
        own_nationality = nationality if rng.random() < 0.8 else "DE"
        born = _birth(rng, low, high)
        members.append(
            Person(
                f"R{next_id[0]:04d}",
                given,
                _family_form(family, nationality, female),
                born,
                street,
                number,
                postcode,
                residence=residence if low >= 18 else "main",
                nationality=own_nationality,
                registered_since=max(since, born),
                transfer_block=rng.random() < 0.08,
            )
        )
        next_id[0] += 1
    return members


def _family_form(family: str, nationality: str, female: bool) -> str:
    """Polish family names in -ski/-cki take -ska/-cka for women."""
    if female and nationality == "PL" and family.endswith(("ski", "cki")):
        return family[:-1] + "a"
    return family


def _add_dogs(rng: random.Random, people: list[Person]) -> None:
    for person in people:
        if person.id < "R0100" or _age(person, TODAY) < 18 or rng.random() > 0.16:
            continue
        for _ in range(rng.choices([1, 2], weights=[85, 15])[0]):
            since = max(person.registered_since, TODAY - dt.timedelta(days=rng.randrange(30, 4000)))
            ended = rng.random() < 0.15
            until = since + dt.timedelta(days=rng.randrange(100, 2000)) if ended else None
            until = until if until is None or until < TODAY else None
            dangerous = rng.random() < 0.03
            person.dogs.append((rng.choice(DOG_NAMES), rng.choice(BREEDS), dangerous, since, until))


def _age(person: Person, on: dt.date) -> int:
    born = person.birth_date
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _eligible(person: Person) -> bool:
    return (
        person.residence == "main"
        and person.nationality in EU
        and _age(person, ELECTION["date"]) >= ELECTION["min_age"]
    )


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    out.write(HEADER)
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(["true" if v is True else "false" if v is False else v for v in row])
    return out.getvalue()


def residents_csv(people: list[Person]) -> str:
    head = ["id", "given_name", "family_name", "birth_date", "street", "house_number", "postcode",
            "city", "residence", "nationality", "registered_since", "transfer_block"]  # fmt: skip
    rows: list[list[object]] = [head]
    for p in people:
        rows.append([p.id, p.given_name, p.family_name, p.birth_date.isoformat(), p.street,
                     p.house_number, p.postcode, "Hannover", p.residence, p.nationality,
                     p.registered_since.isoformat(), p.transfer_block])  # fmt: skip
    return _csv(rows)


def electoral_roll_csv(rng: random.Random, people: list[Person]) -> str:
    districts = {street: f"{i + 1:02d}{rng.randint(1, 9):02d}" for i, (street, *_) in
                 enumerate(STREETS)}  # fmt: skip
    rows: list[list[object]] = [["resident_id", "listed", "polling_district", "postal_vote_issued"]]
    for p in people:
        listed = bool(p.roll.get("listed", _eligible(p)))
        if p.id >= "R0100" and listed and rng.random() < 0.02:
            listed = False  # registered too late for the roll: a clerk has to look
        issued = bool(p.roll.get("postal_vote_issued", listed and rng.random() < 0.07))
        rows.append([p.id, listed, districts[p.street] if listed else "", issued])
    return _csv(rows)


def dog_tax_csv(people: list[Person]) -> str:
    rows: list[list[object]] = [
        ["resident_id", "tax_number", "dog_name", "breed", "dangerous", "since", "until"]
    ]
    number = 4100
    for p in people:
        for name, breed, dangerous, since, until in p.dogs:
            number += 7
            rows.append([p.id, f"HST-{number:06d}", name, breed, dangerous, since.isoformat(),
                         until.isoformat() if until else ""])  # fmt: skip
    return _csv(rows)


def parking_zones_yaml() -> str:
    lines = [HEADER.rstrip(), "# Zone ids, names and the streets in each zone are made up "
             "(real street names, not the city's real zones).", "zones:"]  # fmt: skip
    for zone_id, name_de, name_en, streets in ZONES:
        lines += [f"- id: {zone_id}", f"  name: {{de: {name_de} (synthetisch), en: {name_en} "
                  "(synthetic)}", "  streets:"]  # fmt: skip
        for street, low, high in streets:
            span = "" if low is None else f", from: {low}, to: {high}"
            lines.append(f"  - {{street: {street}{span}}}")
    return "\n".join(lines) + "\n"


def election_yaml() -> str:
    e = ELECTION
    return (
        HEADER + "# A made-up election: its name, date and deadline are no official facts.\n"
        "# Eligibility is modelled on a Lower Saxony municipal election (voting age 16; German\n"
        "# and other EU citizens; listed at the main residence) – for tests, not legal advice.\n"
        f"id: {e['id']}\n"
        f"name: {{de: {e['name_de']}, en: {e['name_en']}}}\n"
        f"date: {e['date'].isoformat()}\n"
        "# Last day to apply for a postal vote (the day is checked, not the hour).\n"
        f"application_deadline: {e['deadline'].isoformat()}\n"
        "eligibility:\n"
        f"  min_age: {e['min_age']}\n"
        "  eu_citizens: true\n"
    )


def build() -> dict[str, str]:
    rng = random.Random(SEED)
    people = list(FIXED)
    next_id = [100]
    for _ in range(HOUSEHOLDS):
        people += _household(rng, next_id)
    _add_dogs(rng, people)
    return {
        "residents.csv": residents_csv(people),
        "parking_zones.yaml": parking_zones_yaml(),
        "election.yaml": election_yaml(),
        "electoral_roll.csv": electoral_roll_csv(rng, people),
        "dog_tax.csv": dog_tax_csv(people),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in build().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"{name}: {text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
