"""A small result in design17's result-JSON contract, for the planner pages' tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from servicepoint.planning.models import Scenario


def metrics(
    mean: float, p95: float, top: float, within: tuple[float, float, float]
) -> dict[str, Any]:
    return {
        "mean_km": mean,
        "p95_km": p95,
        "max_km": top,
        "within": {"1": within[0], "2": within[1], "3": within[2]},
        "covered_share": None,
    }


def result(*, curve: bool = True) -> dict[str, Any]:
    """Three districts (one on its Stadtbezirk's point, one without any), two sites."""
    square = {
        "type": "Polygon",
        "coordinates": [
            [[9.73, 52.37], [9.75, 52.37], [9.75, 52.38], [9.73, 52.38], [9.73, 52.37]]
        ],
    }
    return {
        "demand": {
            "basis": "stadtteile",
            "year": "current",
            "rate": 1.03,
            "total_weight": 30000.0,
            "approximate_share": 0.25,
            "missing_share": 0.1,
            "issues": [
                {
                    "kind": "approximate_point",
                    "subject": "Bult",
                    "detail": "Punkt des Stadtbezirks",
                },
                {"kind": "missing_point", "subject": "Wülfel", "detail": "kein Punkt"},
            ],
        },
        "distance": {"method": "great_circle", "detour": 1.3},
        "sites": [
            {
                "id": "mitte",
                "name": "Bürgeramt Mitte",
                "kind": "office",
                "lat": 52.3745,
                "lon": 9.7386,
                "precision": "exact",
                "open": True,
                "fixed_cost_cents": None,
            },
            {
                "id": "kand-1",
                "name": "Kandidat Nord",
                "kind": "candidate",
                "lat": 52.41,
                "lon": 9.72,
                "precision": "placed",
                "open": False,
                "fixed_cost_cents": 1200000,
            },
        ],
        "points": [
            {
                "id": "st:Mitte",
                "name": "Mitte",
                "borough": "Mitte",
                "lat": 52.375,
                "lon": 9.74,
                "precision": "layer",
                "population": 11412,
                "weight": 11754.0,
                "site": "mitte",
                "km": 0.4,
                "before_km": 0.4,
                "geometry": square,
            },
            {
                "id": "st:Bult",
                "name": "Bult",
                "borough": "Südstadt-Bult",
                "lat": 52.36,
                "lon": 9.77,
                "precision": "approximate",
                "population": 7000,
                "weight": 7210.0,
                "site": "mitte",
                "km": 3.6,
                "before_km": 4.2,
                "geometry": None,
            },
            {
                "id": "st:Wülfel",
                "name": "Wülfel",
                "borough": "Döhren-Wülfel",
                "lat": None,
                "lon": None,
                "precision": "missing",
                "population": 3000,
                "weight": 3090.0,
                "site": None,
                "km": None,
                "before_km": None,
                "geometry": None,
            },
        ],
        "metrics": metrics(1.8, 3.6, 3.6, (0.55, 0.62, 0.7)),
        "baseline": metrics(2.1, 4.2, 4.2, (0.5, 0.6, 0.65)),
        "curve": [
            {
                "k": 5,
                "objective": 50000.0,
                "mean_km": 2.4,
                "max_km": 6.0,
                "optimal": True,
                "sites": ["mitte"],
            },
            {
                "k": 6,
                "objective": 42000.0,
                "mean_km": 2.0,
                "max_km": 5.1,
                "optimal": False,
                "sites": ["mitte"],
            },
            {
                "k": 7,
                "objective": 36000.0,
                "mean_km": 1.7,
                "max_km": 4.0,
                "optimal": True,
                "sites": ["mitte"],
            },
        ]
        if curve
        else [],
        "gains": [{"id": "st:Bult", "name": "Bult", "before_km": 4.2, "after_km": 3.6}],
        "losses": [],
        "solver": {"model": "pmedian", "optimal": True, "gap": 0.0, "seconds": 0.42},
    }


def scenario(
    session: Session, *, name: str = "Fünf bis sieben", status: str = "done", **extra: Any
) -> Scenario:
    row = Scenario(
        name=name,
        kind=extra.pop("kind", "tradeoff"),
        params=extra.pop("params", {"k_min": 5, "k_max": 7}),
        status=status,
        progress=extra.pop("progress", 100 if status == "done" else 0),
        result=result() if status == "done" else None,
        created_by="plan-anna",
        **extra,
    )
    session.add(row)
    session.commit()
    return row
