"""ETRS89/UTM 32N -> degrees, checked against the GRS80 ellipsoid's meridian arc (integrated
numerically here) and against the forward series (each direction from its own coefficients)."""

from __future__ import annotations

import numpy as np
import pytest

from servicepoint.planning import utm


def _meridian_arc(lat: float) -> float:
    """Metres from the equator along the meridian: the integral of the meridian's radius of
    curvature M(φ) = a(1 − e²) / (1 − e² sin² φ)^1.5 (trapezoids, far finer than needed)."""
    e2 = utm.FLATTENING * (2 - utm.FLATTENING)
    phi = np.linspace(0.0, np.radians(lat), 200_001)
    radius = utm.A_AXIS * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    return float(np.sum((radius[1:] + radius[:-1]) / 2 * np.diff(phi)))


def test_fixed_points_of_the_projection() -> None:
    # The equator on the zone's central meridian is the false origin.
    assert utm.to_lonlat(np.array([[500_000.0, 0.0]])) == pytest.approx(np.array([[9.0, 0.0]]))
    # On the central meridian the northing is k0 × the meridian arc, up to the pole.
    for lat in (52.0, 90.0):
        northing = utm.from_lonlat(np.array([[9.0, lat]]))[0, 1]
        assert northing == pytest.approx(utm.K0 * _meridian_arc(lat), abs=0.01)
        back = utm.to_lonlat(np.array([[500_000.0, northing]]))[0]
        assert back == pytest.approx((9.0, lat), abs=1e-9)
    # East of the meridian is east of 500 km; Hannover lies about 50 km east of 9° E.
    east, north = utm.from_lonlat(np.array([[9.7386, 52.3745]]))[0]
    assert 549_000 < east < 552_000 and 5_801_000 < north < 5_804_000


def test_inverse_and_forward_agree_across_the_zone_to_centimetres() -> None:
    rng = np.random.default_rng(17)
    lonlat = np.column_stack([rng.uniform(6.0, 12.0, 500), rng.uniform(47.0, 55.5, 500)])
    back = utm.to_lonlat(utm.from_lonlat(lonlat))
    assert np.abs(back - lonlat).max() < 1e-7  # degrees: about a centimetre at most
    near = np.column_stack([rng.uniform(9.5, 10.0, 100), rng.uniform(52.3, 52.5, 100)])
    assert np.abs(utm.to_lonlat(utm.from_lonlat(near)) - near).max() < 1e-9
