"""Road distances from an OSRM-compatible routing server's table service."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from servicepoint.core.i18n import N_
from servicepoint.errors import ServicePointError
from servicepoint.planning.geo import Located


class RoutingUnavailable(ServicePointError):
    status_code = 502
    code = "routing_unavailable"


def osrm_km(
    url: str, points: Sequence[Located], sites: Sequence[Located], *, timeout: float
) -> npt.NDArray[np.float64]:
    raise RoutingUnavailable(N_("Der Routing-Server ist nicht erreichbar."))
