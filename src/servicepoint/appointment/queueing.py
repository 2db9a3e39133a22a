"""Waiting-time estimates from queueing theory (pure: no database, no web).

Erlang C (M/M/c) gives the steady-state picture; for a concrete ticket with k people ahead and
c busy counters, the time until it is called is Erlang(k+1, c·μ) distributed. Estimates are
shown as ranges (20 %–80 % quantiles rounded outward to 5 minutes), not false precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_SAMPLE_MINUTES = 480.0


def _check(servers: int, arrival_rate: float, service_rate: float) -> None:
    if servers < 1:
        raise ValueError("servers must be at least 1")
    if arrival_rate < 0 or service_rate <= 0:
        raise ValueError("rates must be non-negative (service rate positive)")


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability via the stable recursion B(n) = a·B(n-1) / (n + a·B(n-1))."""
    b = 1.0
    for n in range(1, servers + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Probability that an arrival has to wait in M/M/c (1.0 when the queue is unstable)."""
    _check(servers, arrival_rate, service_rate)
    load = arrival_rate / service_rate
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    rho = load / servers
    return b / (1 - rho + rho * b)


def mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue (same time unit as the rates); infinite when unstable."""
    _check(servers, arrival_rate, service_rate)
    if arrival_rate >= servers * service_rate:
        return math.inf
    return erlang_c(servers, arrival_rate, service_rate) / (servers * service_rate - arrival_rate)


def wait_quantile(servers: int, arrival_rate: float, service_rate: float, q: float) -> float:
    """q-quantile of the waiting time: P(W > t) = C·exp(-(cμ-λ)t)."""
    if not 0 <= q < 1:
        raise ValueError("q must be in [0, 1)")
    c = erlang_c(servers, arrival_rate, service_rate)
    drain = servers * service_rate - arrival_rate
    if drain <= 0:
        return math.inf
    if q <= 1 - c:
        return 0.0
    return math.log(c / (1 - q)) / drain


def erlang_cdf(k: int, rate: float, x: float) -> float:
    """P(X <= x) for X ~ Erlang(k, rate): 1 - Σ_{n<k} e^{-λx}(λx)^n/n!, summed in a stable way."""
    if x <= 0:
        return 0.0
    lam = rate * x
    term = math.exp(-lam)
    total = term
    for n in range(1, k):
        term *= lam / n
        total += term
    return max(0.0, min(1.0, 1.0 - total))


def erlang_quantile(k: int, rate: float, q: float) -> float:
    """Inverse of erlang_cdf by bisection (monotone, so it always converges)."""
    if not 0 <= q < 1:
        raise ValueError("q must be in [0, 1)")
    if q == 0:
        return 0.0
    lo, hi = 0.0, (k + 10 * math.sqrt(k) + 10) / rate
    while erlang_cdf(k, rate, hi) < q:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if erlang_cdf(k, rate, mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def position_wait_quantiles(
    position: int, busy_servers: int, service_rate: float, qs: Sequence[float]
) -> list[float]:
    """Quantiles of the time until a ticket with `position` people ahead is called, all
    `busy_servers` counters serving with exponential times: the (position+1)-th departure."""
    if busy_servers <= 0:
        return [0.0 for _ in qs]
    if position < 0 or service_rate <= 0:
        raise ValueError("position must be >= 0 and the service rate positive")
    return [erlang_quantile(position + 1, busy_servers * service_rate, q) for q in qs]


@dataclass(frozen=True)
class WaitEstimate:
    low_minutes: int
    high_minutes: int
    expected_minutes: float


def _range(low: float, high: float, expected: float) -> WaitEstimate:
    """Round outward to 5 minutes: a range people can plan with, not false precision."""
    lo = int(math.floor(low / 5) * 5)
    hi = int(math.ceil(high / 5) * 5)
    return WaitEstimate(lo, max(hi, lo + 5), expected)


def estimate_for_position(
    position: int,
    servers: int,
    mean_service_minutes: float,
    q_low: float = 0.2,
    q_high: float = 0.8,
) -> WaitEstimate:
    """Range for a ticket with `position` people ahead and `servers` counters."""
    servers = max(servers, 1)
    mu = 1 / max(mean_service_minutes, 0.1)
    low, high = position_wait_quantiles(position, servers, mu, (q_low, q_high))
    return _range(low, high, (position + 1) / (servers * mu))


def estimate_for_new_arrival(
    servers: int, arrivals_per_hour: float, mean_service_minutes: float, queue_length: int
) -> WaitEstimate:
    """What someone pulling a number now should expect: by the queue in front of them."""
    del arrivals_per_hour  # the queue length already says more than the arrival rate
    return estimate_for_position(queue_length, servers, mean_service_minutes)


def steady_state_estimate(
    servers: int, arrivals_per_hour: float, mean_service_minutes: float
) -> WaitEstimate | None:
    """Erlang C view for planning: None when the counters cannot keep up."""
    lam = arrivals_per_hour / 60
    mu = 1 / max(mean_service_minutes, 0.1)
    if lam >= servers * mu:
        return None
    return _range(
        wait_quantile(servers, lam, mu, 0.2),
        wait_quantile(servers, lam, mu, 0.8),
        mean_wait(servers, lam, mu),
    )


def observed_mean(samples: Sequence[float], prior_mean: float, prior_weight: float = 5.0) -> float:
    """Mean service time from observations, shrunk toward a prior so a few samples don't
    swing the estimate; non-positive and absurd (> 8 h) samples are ignored."""
    good = [s for s in samples if 0 < s <= MAX_SAMPLE_MINUTES]
    return (sum(good) + prior_mean * prior_weight) / (len(good) + prior_weight)
