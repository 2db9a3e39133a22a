"""ETRS89 / UTM zone 32N (EPSG:25832) to geographic degrees: German official geodata, and so
Hannover's Open GeoData district layer, come in it. Krüger's series in the third flattening
(Karney 2011, "Transverse Mercator with an accuracy of a few nanometers", to n⁴: well below
a millimetre within a zone), on the GRS80 ellipsoid that ETRS89 uses; ETRS89 and WGS84 differ
by well under a metre here, far below what planning by district needs."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

A_AXIS = 6_378_137.0  # GRS80 semi-major axis (m)
FLATTENING = 1 / 298.257222101  # GRS80
K0 = 0.9996
FALSE_EASTING = 500_000.0
ZONE32_MERIDIAN = 9.0  # degrees east

_N = FLATTENING / (2 - FLATTENING)
_RECTIFYING = A_AXIS / (1 + _N) * (1 + _N**2 / 4 + _N**4 / 64)
_BETA = (
    _N / 2 - 2 * _N**2 / 3 + 37 * _N**3 / 96 - _N**4 / 360,
    _N**2 / 48 + _N**3 / 15 - 437 * _N**4 / 1440,
    17 * _N**3 / 480 - 37 * _N**4 / 840,
    4397 * _N**4 / 161_280,
)
_DELTA = (
    2 * _N - 2 * _N**2 / 3 - 2 * _N**3 + 116 * _N**4 / 45,
    7 * _N**2 / 3 - 8 * _N**3 / 5 - 227 * _N**4 / 45,
    56 * _N**3 / 15 - 136 * _N**4 / 35,
    4279 * _N**4 / 630,
)
_ALPHA = (
    _N / 2 - 2 * _N**2 / 3 + 5 * _N**3 / 16 + 41 * _N**4 / 180,
    13 * _N**2 / 48 - 3 * _N**3 / 5 + 557 * _N**4 / 1440,
    61 * _N**3 / 240 - 103 * _N**4 / 140,
    49_561 * _N**4 / 161_280,
)
# EPSG codes of the CRS names that mean this projection, and of those in degrees already.
UTM32_CODES = ("25832",)
DEGREE_CODES = ("4326", "crs84", "4258")


def to_lonlat(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(k, 2) easting, northing in metres -> (k, 2) lon, lat in degrees (GeoJSON's order)."""
    xi = xy[:, 1] / (K0 * _RECTIFYING)
    eta = (xy[:, 0] - FALSE_EASTING) / (K0 * _RECTIFYING)
    xi_p, eta_p = xi.copy(), eta.copy()
    for j, beta in enumerate(_BETA, start=1):
        xi_p -= beta * np.sin(2 * j * xi) * np.cosh(2 * j * eta)
        eta_p -= beta * np.cos(2 * j * xi) * np.sinh(2 * j * eta)
    chi = np.arcsin(np.sin(xi_p) / np.cosh(eta_p))
    lat = chi.copy()
    for j, delta in enumerate(_DELTA, start=1):
        lat += delta * np.sin(2 * j * chi)
    lon = ZONE32_MERIDIAN + np.degrees(np.arctan2(np.sinh(eta_p), np.cos(xi_p)))
    return np.column_stack([lon, np.degrees(lat)])


def from_lonlat(lonlat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(k, 2) lon, lat in degrees -> (k, 2) easting, northing (the forward series; used to
    check the inverse and to write test data)."""
    lam = np.radians(lonlat[:, 0] - ZONE32_MERIDIAN)
    phi = np.radians(lonlat[:, 1])
    e = 2 * np.sqrt(_N) / (1 + _N)
    with np.errstate(divide="ignore"):  # at a pole: t = ±inf, which the arctan2 below takes
        t = np.sinh(np.arctanh(np.sin(phi)) - e * np.arctanh(e * np.sin(phi)))
    xi_p = np.arctan2(t, np.cos(lam))
    eta_p = np.arctanh(np.sin(lam) / np.sqrt(1 + t**2))
    xi, eta = xi_p.copy(), eta_p.copy()
    for j, alpha in enumerate(_ALPHA, start=1):
        xi += alpha * np.sin(2 * j * xi_p) * np.cosh(2 * j * eta_p)
        eta += alpha * np.cos(2 * j * xi_p) * np.sinh(2 * j * eta_p)
    return np.column_stack([FALSE_EASTING + K0 * _RECTIFYING * eta, K0 * _RECTIFYING * xi])
