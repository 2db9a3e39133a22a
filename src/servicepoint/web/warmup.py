"""Warm-up at start-up: the search indexes are built before the first request, not during it.

Building them takes seconds (the first search after a start took 5 s); each worker process
does it once in its lifespan and keeps them, so no citizen waits for it.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.appointment.slots import is_holiday
from servicepoint.assistant import languages, matcher, ranker, retrieval
from servicepoint.assistant.embedding import embedder_for
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.core.city import elsewhere_topics, elsewhere_words, place_names
from servicepoint.core.clock import today_local

log = logging.getLogger("servicepoint")


def warm_up(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Build the site search's and the assistant's index and run one query through each; load
    what the assistant and the slot search would otherwise read on their first request."""
    try:
        with sessions() as session:
            first = next(iter(catalog_service.list_services(session)), None)
            probe = first.name_de if first else ""
            catalog_service.search_index(session).search(probe, limit=1)
            city = settings.city_dir
            index = catalog_service.search_index(session, place_names(city), elsewhere_words(city))
            matcher.match(index, probe)
            elsewhere_topics(city)
            # The embedding model, the catalog's vectors and the language detector load here,
            # not in a citizen's first question.
            embedder = embedder_for(settings)
            if embedder is not None:
                hybrid = retrieval.hybrid_index(session, embedder)
                ranker.rank(hybrid, index, probe, lang="de")
                session.commit()  # vectors computed for texts new to the cache
            languages.detect("Merhaba, nasılsınız bugün?", default="de")
        # The holiday calendar's module loads on the first slot search otherwise.
        is_holiday(today_local())
    except SQLAlchemyError:
        # A database that is not migrated yet: the first request builds the indexes instead.
        log.warning("warm-up skipped: the database is not ready", exc_info=True)
