"""Imports every domain's models so Alembic and tests see the whole schema."""

from servicepoint.account import models as account_models
from servicepoint.appointment import models as appointment_models
from servicepoint.assistant import models as assistant_models
from servicepoint.assistant import vectors as assistant_vectors
from servicepoint.casework import models as casework_models
from servicepoint.catalog import models as catalog_models
from servicepoint.consultation import models as consultation_models
from servicepoint.core import events as core_events
from servicepoint.core import guards as core_guards
from servicepoint.core.db import Base
from servicepoint.planning import models as planning_models

__all__ = [
    "Base",
    "account_models",
    "appointment_models",
    "assistant_models",
    "assistant_vectors",
    "casework_models",
    "catalog_models",
    "consultation_models",
    "core_events",
    "core_guards",
    "planning_models",
]
