"""ETRS89/UTM 32N -> degrees, checked against constants of the GRS80 ellipsoid and the
forward series (each direction written from its own coefficients)."""

from __future__ import annotations

import numpy as np
import pytest

from servicepoint.planning import utm


def test_fixed_points_of_the_projection() -> None:
    # The equator on the zone's central meridian is the false origin.
    assert utm.to_lonlat(np.array([[500_000.0, 0.0]])) == pytest.approx(np.array([[9.0, 0.0]]))
    # The pole lies k0 × GRS80's quarter meridian (10,001,965.7293 m) north of the equator.
    pole = utm.from_lonlat(np.array([[9.0, 90.0]]))
    assert pole[0, 1] == pytest.approx(0.9996 * 10_001_965.7293, abs=0.01)
    # 52° N on the central meridian: the northing UTM tables give (5,761,038 m).
    assert utm.from_lonlat(np.array([[9.0, 52.0]]))[0, 1] == pytest.approx(5_761_038.2, abs=0.5)
    # East of the meridian is east of 500 km; Hannover lies about 50 km east of 9° E.
    east, north = utm.from_lonlat(np.array([[9.7386, 52.3745]]))[0]
    assert 549_000 < east < 552_000 and 5_801_000 < north < 5_804_000


def test_inverse_and_forward_agree_across_the_zone_to_millimetres() -> None:
    rng = np.random.default_rng(17)
    lonlat = np.column_stack([rng.uniform(6.0, 12.0, 500), rng.uniform(47.0, 55.5, 500)])
    back = utm.to_lonlat(utm.from_lonlat(lonlat))
    assert np.abs(back - lonlat).max() < 1e-7  # degrees: about a centimetre at most
    near = np.column_stack([rng.uniform(9.5, 10.0, 100), rng.uniform(52.3, 52.5, 100)])
    assert np.abs(utm.to_lonlat(utm.from_lonlat(near)) - near).max() < 1e-9
