"""Replies composed only from catalog fields: fees with conditions, documents, honest gaps,
and the typed links, online first."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from servicepoint.assistant.answers import Finding, Quote, Way
from servicepoint.assistant.compose import Context, Place, actions, compose
from servicepoint.assistant.nlp import ASPECTS
from servicepoint.catalog import locations, present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Location
from servicepoint.catalog.schemas import ServiceDetail
from tests.assistant.conftest import DetailOf

BASE = "http://testserver"
PHONE = "0511 168-32000"
SLOT = dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.UTC)  # 09:30 in Hannover (CET)


def ctx_for(d: ServiceDetail, lang: str = "de", **extra: object) -> Context:
    slug = d.url.rsplit("/", 1)[-1]
    values: dict[str, object] = {
        "lang": lang,
        "service_url": d.url,
        "tutorial_url": f"{BASE}/leistungen/{slug}/anleitung" if d.tutorial else None,
        "booking_url": f"{BASE}/termine?service={d.id}",
        "offices": ["Bürgeramt Aegi", "Bürgeramt Linden"],
        "service_phone": PHONE,
    }
    values.update(extra)
    return Context(**values)  # type: ignore[arg-type]


def empty(d: ServiceDetail) -> ServiceDetail:
    """The same service with no fees, documents or processing time in the catalog."""
    return d.model_copy(
        update={"fees": [], "fees_as_of": None, "documents": [], "processing_time": None}
    )


# -- fees --------------------------------------------------------------------------------------


def test_fees_with_conditions_and_stand(detail_of: DetailOf) -> None:
    d = detail_of("personalausweis")
    reply = compose(d, ["cost"], ctx_for(d))
    assert reply.startswith("Personalausweis beantragen: Gebühren: ")
    assert "46,00 €" in reply
    assert "27,60 €" in reply
    for fee in d.fees:
        assert fee.label in reply
        assert fee.condition and fee.condition in reply
    assert d.fees_as_of is not None
    assert f"Stand: {d.fees_as_of:%d.%m.%Y}." in reply


def test_fees_in_english(detail_of: DetailOf) -> None:
    d = detail_of("personalausweis", "en")
    reply = compose(d, ["cost"], ctx_for(d, "en"))
    assert reply.startswith("Apply for an identity card: Fees: ")
    assert "€46.00" in reply and "€27.60" in reply
    assert "applicants aged 24 or older" in reply
    assert d.fees_as_of is not None
    assert f"As of {d.fees_as_of:%d.%m.%Y}." in reply
    assert not re.search(r"\d €", reply)  # English puts the sign first


def test_fees_for_children_only_name_the_child_fee(detail_of: DetailOf) -> None:
    d = detail_of("personalausweis")
    reply = compose(d, ["cost"], ctx_for(d), children=True)
    assert "27,60 €" in reply
    assert "unter 24 Jahren" in reply
    assert "46,00 €" not in reply
    assert "15,00 €" not in reply


def test_fees_for_children_of_a_service_without_child_fee_keep_all(detail_of: DetailOf) -> None:
    d = detail_of("fuehrungszeugnis")
    assert compose(d, ["cost"], ctx_for(d), children=True) == compose(d, ["cost"], ctx_for(d))


def test_unknown_fees_are_not_invented(detail_of: DetailOf) -> None:
    d = empty(detail_of("personalausweis"))
    reply = compose(d, ["cost"], ctx_for(d))
    assert "Zu den Gebühren liegen mir keine gesicherten Angaben vor." in reply
    assert "€" not in reply
    assert not re.search(r"\d", reply)
    en = empty(detail_of("personalausweis", "en"))
    reply_en = compose(en, ["cost"], ctx_for(en, "en"))
    assert "I have no confirmed information on the fees." in reply_en


# -- documents and processing time -----------------------------------------------------------


def test_documents_checklist_with_conditions(detail_of: DetailOf) -> None:
    d = detail_of("personalausweis")
    reply = compose(d, ["documents"], ctx_for(d))
    assert "Bitte mitbringen: " in reply
    for doc in d.documents:
        assert doc.text in reply
        if doc.condition:
            assert f"{doc.text} ({doc.condition})" in reply


def test_documents_for_children(detail_of: DetailOf) -> None:
    d = detail_of("personalausweis")
    reply = compose(d, ["documents"], ctx_for(d), children=True)
    child_docs = [doc for doc in d.documents if doc.condition and "unter" in doc.condition]
    assert child_docs
    for doc in d.documents:
        assert (doc.text in reply) == (doc in child_docs)


def test_processing_time_from_the_catalog(detail_of: DetailOf) -> None:
    d = detail_of("reisepass")
    assert d.processing_time
    reply = compose(d, ["duration"], ctx_for(d))
    assert d.processing_time.rstrip(".") in reply
    assert ".." not in reply  # the catalog text ends with a full stop already


def test_a_stand_in_for_short_notice_is_named_with_the_duration(detail_of: DetailOf) -> None:
    d = detail_of("reisepass")
    hint = "Wenn es eilig ist: Vorläufigen Reisepass beantragen."
    assert hint in compose(d, ["duration"], ctx_for(d, stand_in="Vorläufigen Reisepass beantragen"))
    assert hint not in compose(d, ["cost"], ctx_for(d, stand_in="Vorläufigen Reisepass beantragen"))
    assert "eilig" not in compose(d, ["duration"], ctx_for(d))


def test_unknown_documents_and_processing_time_are_said_so(detail_of: DetailOf) -> None:
    d = empty(detail_of("reisepass"))
    reply = compose(d, ["documents", "duration"], ctx_for(d))
    assert "Welche Unterlagen nötig sind, liegt mir nicht gesichert vor." in reply
    assert "Zur Bearbeitungsdauer liegen mir keine gesicherten Angaben vor." in reply
    assert not re.search(r"\d", reply)
    en = empty(detail_of("reisepass", "en"))
    reply_en = compose(en, ["documents", "duration"], ctx_for(en, "en"))
    assert "I have no confirmed list of the documents needed." in reply_en
    assert "I have no confirmed information on the processing time." in reply_en


def test_no_number_that_is_not_in_the_catalog(session: Session) -> None:
    """For every service, sub-question and language: each number in the reply comes from the
    catalog record or the context (next slot, number of offices, service phone)."""
    local = SLOT.astimezone(ZoneInfo("Europe/Berlin"))
    from_context = {local.day, local.month, local.year, local.hour, local.minute, 2}
    from_context |= {int(x) for x in re.findall(r"\d+", PHONE)}
    for svc in catalog_service.list_services(session):
        for lang in ("de", "en"):
            d = present.service_detail(svc, base=BASE, lang=lang)
            allowed = {int(x) for x in re.findall(r"\d+", d.model_dump_json())} | from_context
            for fee in d.fees:
                allowed |= {fee.amount_cents // 100, fee.amount_cents % 100}
            ctx = ctx_for(d, lang, next_slot=SLOT, next_slot_place="Bürgeramt Aegi")
            for aspects in [[], *[[a] for a in ASPECTS]]:
                for children in (False, True):
                    reply = compose(d, aspects, ctx, children=children)
                    numbers = {int(x) for x in re.findall(r"\d+", reply)}
                    assert numbers <= allowed, (svc.id, lang, aspects, numbers - allowed)


# -- steering: online first, then appointment, video, the authority ---------------------------


def test_online_service_comes_first_with_its_tutorial(detail_of: DetailOf) -> None:
    d = detail_of("fuehrungszeugnis")
    ctx = ctx_for(d)
    acts = actions(d, ctx)
    assert [a.type for a in acts] == ["online_service", "tutorial", "book_appointment", "referral"]
    assert acts[0].url == d.online_url
    assert acts[1].url == ctx.tutorial_url
    assert acts[2].url == f"{BASE}/termine?service=fuehrungszeugnis"
    general = compose(d, [], ctx)
    assert "Das geht online – ohne Termin und Wartezeit." in general
    # Asked about the fee, the reply still points to the online way.
    assert compose(d, ["cost"], ctx).endswith("Eine Schritt-für-Schritt-Anleitung hilft dabei.")


def test_online_service_without_tutorial(detail_of: DetailOf) -> None:
    d = detail_of("hundesteuer")
    acts = actions(d, ctx_for(d, tutorial_url=None))
    assert [a.type for a in acts] == ["online_service", "book_appointment"]


def test_appointment_only_service_offers_the_earliest_slot(detail_of: DetailOf) -> None:
    d = detail_of("personalausweis")
    ctx = ctx_for(d, next_slot=SLOT, next_slot_place="Bürgeramt Aegi")
    acts = actions(d, ctx)
    assert [a.type for a in acts] == ["book_appointment"]
    assert acts[0].label == "Termin buchen (26.11.2026, 09:30 Uhr)"
    reply = compose(d, ["booking"], ctx)
    assert "Nächster freier Termin: 26.11.2026, 09:30 Uhr (Bürgeramt Aegi)." in reply
    assert "Das geht leider nicht online." in compose(d, ["online"], ctx)
    assert "Dafür brauchen Sie einen Termin im Bürgeramt." in compose(d, [], ctx)


def test_video_and_referral_for_an_external_service(detail_of: DetailOf) -> None:
    d = detail_of("einbuergerung")
    acts = actions(d, ctx_for(d))
    assert [a.type for a in acts] == ["book_video", "referral"]
    assert acts[1].label == d.responsible.name
    assert acts[1].url == d.responsible.url
    reply = compose(d, ["where"], ctx_for(d))
    assert f"Zuständig: {d.responsible.name}" in reply


def test_referral_falls_back_to_the_service_page(detail_of: DetailOf) -> None:
    d = detail_of("eheschliessung")
    assert d.responsible.url is None
    acts = actions(d, ctx_for(d))
    assert [(a.type, a.url) for a in acts] == [("referral", d.url)]


def test_english_labels(detail_of: DetailOf) -> None:
    d = detail_of("fuehrungszeugnis", "en")
    labels = [a.label for a in actions(d, ctx_for(d, "en"))]
    assert labels[:3] == ["Do it online", "Step-by-step guide", "Book an appointment"]
    assert compose(d, [], ctx_for(d, "en")).startswith("Apply for a certificate of good conduct: ")


def test_hours_are_not_invented(detail_of: DetailOf) -> None:
    d = detail_of("meldebescheinigung")
    reply = compose(d, ["hours"], ctx_for(d))
    assert "Öffnungszeiten der einzelnen Bürgerämter liegen mir nicht gesichert vor" in reply
    assert PHONE in reply
    assert not re.search(r"\d{1,2}[:.]\d{2}\s*Uhr", reply)


def test_at_most_three_sub_questions(detail_of: DetailOf) -> None:
    d = detail_of("reisepass")
    reply = compose(d, ["cost", "documents", "duration", "responsible", "booking"], ctx_for(d))
    assert "Gebühren:" in reply and "Bitte mitbringen:" in reply and "Bearbeitungsdauer:" in reply
    assert "Zuständig:" not in reply and "Termin" not in reply.split("Bearbeitungsdauer:")[1]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_reply_names_the_service_in_its_language(detail_of: DetailOf, lang: str) -> None:
    d = detail_of("fischereischein", lang)
    name = d.name if lang == "de" else d.name_en
    assert compose(d, ["documents"], ctx_for(d, lang)).startswith(f"{name}: ")


# -- the exact question: quotes, places, variants (issue 18) ----------------------------------


def test_a_found_sentence_is_quoted_with_its_source(detail_of: DetailOf) -> None:
    d = detail_of("wohnsitz-anmelden")
    quote = Quote("summary", "Sie melden sich innerhalb von zwei Wochen an.", 1.0)
    ctx = ctx_for(d, findings=[Finding("deadline", (quote,))])
    reply = compose(d, ["duration"], ctx)
    assert "Laut Leistungsbeschreibung: „Sie melden sich innerhalb von zwei Wochen an“" in reply
    assert f"(Quelle: {d.url})" in reply
    assert "Bearbeitungsdauer" not in reply  # the deadline replaces the processing time


def test_a_deadline_not_in_the_text_is_said_so_beside_the_processing_time(
    detail_of: DetailOf,
) -> None:
    d = detail_of("reisepass")
    for lang, unknown in (
        ("de", "Zu einer Frist liegen mir keine gesicherten Angaben vor."),
        ("en", "I have no confirmed information on a deadline."),
    ):
        d = detail_of("reisepass", lang)
        reply = compose(d, ["duration"], ctx_for(d, lang, findings=[Finding("deadline")]))
        assert unknown in reply and PHONE in reply
        assert d.processing_time and d.processing_time in reply


def test_who_may_not_found_is_left_out_beside_another_answer(detail_of: DetailOf) -> None:
    d = detail_of("personalausweis")
    reply = compose(d, ["online"], ctx_for(d, findings=[Finding("eligibility")]))
    assert "Wer das darf" not in reply
    alone = compose(d, [], ctx_for(d, findings=[Finding("eligibility")]))
    assert "Wer das darf, liegt mir nicht gesichert vor." in alone


def test_where_lists_at_most_three_places_with_what_is_known(detail_of: DetailOf) -> None:
    d = detail_of("reisepass")
    places = [
        Place("Bürgeramt Aegi", "Aegidientorplatz 1, Hannover", "Mo 08:00-12:00"),
        Place("Bürgeramt Linden", "Lindener Marktplatz, Hannover"),
        Place("Bürgeramt Sahlkamp", "Elmstraße 15, Hannover"),
        Place("Bürgeramt Bemerode"),
    ]
    reply = compose(d, ["where"], ctx_for(d, places=places))
    assert "Bürgeramt Aegi, Aegidientorplatz 1, Hannover (geöffnet Mo 08:00-12:00)" in reply
    assert "Bemerode" not in reply
    assert "Die Öffnungszeiten liegen mir nicht gesichert vor." in reply
    assert "Alle Standorte: /standorte." in reply
    assert f"Zuständig: {d.responsible.name}." in reply
    unknown = compose(d, ["where"], ctx_for(d, places=[Place("Bürgeramt Bemerode")]))
    assert "Die Adressen liegen mir nicht gesichert vor" in unknown


def test_where_names_the_offices_only(session: Session) -> None:
    """A mobile ServicePoint's stop and the video consultations are no Bürgeramt to go to."""
    session.add_all(
        [
            Location(id="fd-stop", name="Mobiler ServicePoint – Halt", kind="mobile"),
            Location(id="fd-video", name="Videoberatung", kind="video"),
        ]
    )
    session.flush()
    kinds = {loc.kind for loc in locations.list_offices(session)}
    assert kinds == {locations.OFFICE_KIND}
    assert "fd-stop" in {loc.id for loc in locations.list_locations(session)}


def test_online_is_stated_per_variant(detail_of: DetailOf) -> None:
    d = detail_of("online-ausweisfunktion-pin", "en")
    ways = [
        Way("Switch on the online ID function", False, "At the office.", None),
        Way("Change your PIN yourself", True, None, "https://www.ausweisapp.bund.de"),
    ]
    reply = compose(d, ["online"], ctx_for(d, "en", ways=ways))
    assert "“Switch on the online ID function” cannot be done online. At the office." in reply
    assert "“Change your PIN yourself” can be done online." in reply
    assert "You can do this online" not in reply
    cost = compose(d, ["cost"], ctx_for(d, "en", ways=ways))
    assert cost.endswith("Online: “Change your PIN yourself”.")
