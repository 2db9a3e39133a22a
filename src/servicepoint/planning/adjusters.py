"""Adjusters of demand weights (the WeightAdjuster interface of planning.demand): booking
statistics now; citizens' participation will add its own class here later."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from servicepoint.core.i18n import N_
from servicepoint.planning.demand import DemandPoint, SiteInfo
from servicepoint.planning.geo import great_circle_km


class BookingAdjuster:
    """Booking statistics as a WeightAdjuster: each placed office's share of the observed
    bookings ÷ its share of the predicted visits of its catchment (the points nearest to it,
    great-circle, under today's network), clipped to [0.5, 2], multiplies the catchment's
    weights. Shares, not counts: bookings are only part of all visits (walk-ins, phone), so
    raw counts would pull every factor to the clip; shares keep the city's total level and move
    weight to where people actually book more than the model predicts. Offices without a
    point or without a count leave their catchment unchanged (factor 1)."""

    name = N_("Buchungsstatistik")
    LOW, HIGH = 0.5, 2.0

    def __init__(self, sites: Sequence[SiteInfo], bookings: Mapping[str, int]) -> None:
        self.offices = [
            s
            for s in sites
            if s.kind == "office" and s.lat is not None and s.lon is not None and s.location_id
        ]
        self.bookings = dict(bookings)

    def catchments(self, points: Sequence[DemandPoint]) -> dict[str, str]:
        """Point id -> location id of the nearest placed office."""
        placed = [p for p in points if p.lat is not None and p.lon is not None]
        if not placed or not self.offices:
            return {}
        nearest = great_circle_km(placed, self.offices, 1.0).argmin(axis=1)
        return {
            p.id: str(self.offices[j].location_id) for p, j in zip(placed, nearest, strict=True)
        }

    def factors(self, points: Sequence[DemandPoint]) -> Mapping[str, float]:
        catchment = self.catchments(points)
        weights = {p.id: p.weight for p in points}
        predicted: dict[str, float] = {}
        for point_id, office in catchment.items():
            predicted[office] = predicted.get(office, 0.0) + weights[point_id]
        counted = {o: self.bookings[o] for o in predicted if o in self.bookings}
        booked_total, predicted_total = sum(counted.values()), sum(predicted[o] for o in counted)
        if booked_total <= 0 or predicted_total <= 0:
            return {}
        ratio = {
            o: (n / booked_total) / (predicted[o] / predicted_total)
            for o, n in counted.items()
            if predicted[o] > 0
        }
        return {
            point_id: min(self.HIGH, max(self.LOW, ratio[office]))
            for point_id, office in catchment.items()
            if office in ratio
        }
