"""Waiting-time estimates for walk-ins, from queueing theory (pure: no database, no web).

Two views, both assuming exponential service times at identical counters:

* Steady state (Erlang C, M/M/c): how long an arrival waits on average over a long day. Useful
  for planning counters, but it ignores what is actually in the queue right now.
* By position: a ticket with k people ahead and c busy counters is called at the (k+1)-th
  departure. Departures of c busy exponential servers form a Poisson stream of rate c·μ, so the
  time until the call is Erlang(k+1, c·μ). This uses what we know now and is what the ticket
  and kiosk pages show.

Pages show ranges (20 %–80 % quantiles, rounded outward to 5 minutes), never false precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_SAMPLE_MINUTES = 8 * 60.0
"""Longer "service times" are forgotten tickets or clock errors, not information."""

RANGE_STEP_MINUTES = 5
"""Granularity of the ranges shown to citizens."""

_BISECTION_STEPS = 200
_ROUNDING_SLACK = 1e-9


# -- validation --------------------------------------------------------------------------------
def _check_servers(servers: int) -> None:
    """An office without a counter has no queueing behaviour to describe."""
    if servers < 1:
        raise ValueError(f"servers must be at least 1, got {servers}")


def _check_non_negative(name: str, value: float) -> None:
    """Rates are counts per time; written as `not >=` so NaN is rejected too."""
    if not value >= 0:
        raise ValueError(f"{name} must be non-negative, got {value}")


def _check_positive(name: str, value: float) -> None:
    """For quantities we divide by (a service rate, a mean duration)."""
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


def _check_probability(q: float) -> None:
    """Quantiles exist for 0 <= q < 1; q = 1 would be an infinite wait."""
    if not 0 <= q < 1:
        raise ValueError(f"quantile level must be in [0, 1), got {q}")


def _check_mmc(servers: int, arrival_rate: float, service_rate: float) -> None:
    _check_servers(servers)
    _check_non_negative("arrival_rate", arrival_rate)
    _check_non_negative("service_rate", service_rate)


def _is_unstable(servers: int, arrival_rate: float, service_rate: float) -> bool:
    """The queue grows without bound when work arrives at least as fast as it is done."""
    return arrival_rate >= servers * service_rate


# -- steady state: Erlang B / C ----------------------------------------------------------------
def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load `load` (in Erlangs).

    Uses the recursion B(n) = a·B(n-1) / (n + a·B(n-1)) instead of the textbook ratio of sums,
    whose factorials and powers overflow for a few hundred servers; every step stays in [0, 1].
    """
    if servers < 0:
        raise ValueError(f"servers must be non-negative, got {servers}")
    _check_non_negative("load", load)
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Probability that an arrival has to wait in M/M/c; 1.0 when the queue is unstable.

    Derived from Erlang B (C = B / (1 - ρ + ρ·B)) so it inherits B's numerical stability.
    """
    _check_mmc(servers, arrival_rate, service_rate)
    if _is_unstable(servers, arrival_rate, service_rate):
        return 1.0
    load = arrival_rate / service_rate
    rho = load / servers
    blocking = erlang_b(servers, load)
    return blocking / (1 - rho + rho * blocking)


def mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in the queue, W_q = C / (cμ - λ), in the rates' time unit; inf when unstable."""
    _check_mmc(servers, arrival_rate, service_rate)
    if _is_unstable(servers, arrival_rate, service_rate):
        return math.inf
    drain = servers * service_rate - arrival_rate
    return erlang_c(servers, arrival_rate, service_rate) / drain


def wait_quantile(servers: int, arrival_rate: float, service_rate: float, q: float) -> float:
    """q-quantile of the M/M/c waiting time, from P(W > t) = C·exp(-(cμ - λ)t).

    The distribution has an atom C' = 1 - C at zero (those served at once), so every level
    q <= 1 - C gives 0. Unstable queues have no finite quantile: inf.
    """
    _check_probability(q)
    waiting = erlang_c(servers, arrival_rate, service_rate)
    if _is_unstable(servers, arrival_rate, service_rate):
        return math.inf
    if q <= 1 - waiting:
        return 0.0
    drain = servers * service_rate - arrival_rate
    return math.log(waiting / (1 - q)) / drain


# -- by position: Erlang(k, rate) --------------------------------------------------------------
def _log_sum_exp(logs: Sequence[float]) -> float:
    """log(Σ e^l) without overflow or underflow of the individual terms."""
    top = max(logs)
    return top + math.log(math.fsum(math.exp(v - top) for v in logs))


def erlang_cdf(k: int, rate: float, x: float) -> float:
    """P(X <= x) for X ~ Erlang(k, rate): 1 - Σ_{n<k} e^{-λx}(λx)^n / n!.

    The Poisson terms are summed in log space: e^{-λx} alone underflows to 0 for λx > 745, which
    would report certainty long before it is reached when k is large.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    _check_positive("rate", rate)
    if x <= 0:
        return 0.0
    mean_count = rate * x
    log_terms = [-mean_count + n * math.log(mean_count) - math.lgamma(n + 1) for n in range(k)]
    log_survival = min(0.0, _log_sum_exp(log_terms))
    return -math.expm1(log_survival)


def _upper_bracket(k: int, rate: float, q: float) -> float:
    """A point where the CDF is >= q: start well above the mean and double until it is."""
    high = (k + 10 * math.sqrt(k) + 10) / rate
    while erlang_cdf(k, rate, high) < q:
        high *= 2
    return high


def erlang_quantile(k: int, rate: float, q: float) -> float:
    """Inverse of `erlang_cdf` by bisection: the CDF is continuous and increasing, so bisection
    always converges, with no closed form needed (there is none for k > 1)."""
    _check_probability(q)
    if q == 0:
        return 0.0
    low, high = 0.0, _upper_bracket(k, rate, q)
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        if mid in (low, high):
            break
        if erlang_cdf(k, rate, mid) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def position_wait_quantiles(
    position: int, busy_servers: int, service_rate: float, qs: Sequence[float]
) -> list[float]:
    """Quantiles of the time until a ticket with `position` people ahead (0 = next) is called.

    With `busy_servers` counters all serving (exponential service, rate `service_rate` each),
    the call comes at the (position+1)-th departure: Erlang(position+1, busy_servers·μ). With no
    busy counter the ticket is called at once.
    """
    if position < 0:
        raise ValueError(f"position must be non-negative, got {position}")
    if busy_servers < 0:
        raise ValueError(f"busy_servers must be non-negative, got {busy_servers}")
    _check_positive("service_rate", service_rate)
    for q in qs:
        _check_probability(q)
    if busy_servers == 0:
        return [0.0 for _ in qs]
    rate = busy_servers * service_rate
    return [erlang_quantile(position + 1, rate, q) for q in qs]


# -- what the pages show -----------------------------------------------------------------------
@dataclass(frozen=True)
class WaitEstimate:
    """A waiting-time range in whole minutes (multiples of 5) plus the model's mean."""

    low_minutes: int
    high_minutes: int
    expected_minutes: float


def round_range(low: float, high: float, expected: float) -> WaitEstimate:
    """Round outward to 5-minute steps, so the range is honest about its uncertainty.

    Low goes down and high goes up; a range that collapses (e.g. both exactly 10) is widened by
    one step, because "10–10 minutes" would be exactly the false precision we avoid.
    """
    step = RANGE_STEP_MINUTES
    low_minutes = math.floor(low / step + _ROUNDING_SLACK) * step
    high_minutes = math.ceil(high / step - _ROUNDING_SLACK) * step
    return WaitEstimate(
        low_minutes=max(0, low_minutes),
        high_minutes=max(high_minutes, low_minutes + step),
        expected_minutes=expected,
    )


def estimate_for_position(
    position: int,
    servers: int,
    mean_service_minutes: float,
    q_low: float = 0.2,
    q_high: float = 0.8,
) -> WaitEstimate:
    """Range for a ticket with `position` people ahead while `servers` counters serve walk-ins.

    Assumes all counters are busy (the cautious reading when people are queueing).
    """
    _check_servers(servers)
    _check_positive("mean_service_minutes", mean_service_minutes)
    if not q_low <= q_high:
        raise ValueError(f"q_low must not exceed q_high, got {q_low} > {q_high}")
    service_rate = 1 / mean_service_minutes
    low, high = position_wait_quantiles(position, servers, service_rate, (q_low, q_high))
    expected = (position + 1) * mean_service_minutes / servers
    return round_range(low, high, expected)


def steady_state_estimate(
    servers: int, arrivals_per_hour: float, mean_service_minutes: float
) -> WaitEstimate | None:
    """Erlang C range (20 %–80 % quantiles) for planning; None when counters cannot keep up."""
    _check_positive("mean_service_minutes", mean_service_minutes)
    arrival_rate = arrivals_per_hour / 60
    service_rate = 1 / mean_service_minutes
    _check_mmc(servers, arrival_rate, service_rate)
    if _is_unstable(servers, arrival_rate, service_rate):
        return None
    return round_range(
        wait_quantile(servers, arrival_rate, service_rate, 0.2),
        wait_quantile(servers, arrival_rate, service_rate, 0.8),
        mean_wait(servers, arrival_rate, service_rate),
    )


def estimate_for_new_arrival(
    servers: int,
    arrivals_per_hour: float,
    mean_service_minutes: float,
    queue_length: int | None,
) -> WaitEstimate:
    """What someone who pulls a number now should expect.

    The queue in front of them says more than any long-run average, so a known `queue_length`
    (people waiting, all ahead of the new ticket) decides. Only when it is unknown do we fall
    back to the steady state, which does not exist for an overloaded office (ValueError).
    """
    _check_non_negative("arrivals_per_hour", arrivals_per_hour)
    if queue_length is not None:
        return estimate_for_position(queue_length, servers, mean_service_minutes)
    estimate = steady_state_estimate(servers, arrivals_per_hour, mean_service_minutes)
    if estimate is None:
        raise ValueError("queue is unstable and its length unknown: no waiting time to estimate")
    return estimate


def observed_mean(samples: Sequence[float], prior_mean: float, prior_weight: float = 5.0) -> float:
    """Mean service time from observed durations, shrunk toward `prior_mean`.

    The prior (the catalog's appointment duration) counts as `prior_weight` observations, so the
    first few tickets of a morning don't swing every estimate. Non-positive and absurd (> 8 h)
    samples are forgotten tickets or clock errors and are ignored.
    """
    _check_positive("prior_mean", prior_mean)
    _check_non_negative("prior_weight", prior_weight)
    good = [s for s in samples if 0 < s <= MAX_SAMPLE_MINUTES]
    if not good and prior_weight == 0:
        return prior_mean
    return (math.fsum(good) + prior_weight * prior_mean) / (len(good) + prior_weight)
