"""Choosing the answer threshold: the steadiest good threshold, not the edge of a cliff."""

from servicepoint.assistant.calibrate import _steadiest

THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7]


def test_the_threshold_beside_a_cliff_loses_to_a_steady_one() -> None:
    # 0.55 is best by a hair, but one step lower the score falls off a cliff.
    by_threshold = {0.5: 0.90, 0.55: 0.972, 0.6: 0.970, 0.65: 0.969, 0.7: 0.968}
    scores = {(t, 0.95): s for t, s in by_threshold.items()}
    assert _steadiest(scores, THRESHOLDS) == (0.6, 0.95)


def test_a_clear_peak_is_kept() -> None:
    by_threshold = {0.5: 0.90, 0.55: 0.93, 0.6: 0.97, 0.65: 0.93, 0.7: 0.90}
    scores = {
        (t, r): s - (0.01 if r == 0.9 else 0.0)
        for t, s in by_threshold.items()
        for r in (0.9, 0.99)
    }
    assert _steadiest(scores, THRESHOLDS) == (0.6, 0.99)


def test_ties_in_steadiness_go_to_the_better_score() -> None:
    scores = {(t, 0.95): 0.95 for t in THRESHOLDS} | {(0.6, 0.95): 0.96}
    assert _steadiest(scores, THRESHOLDS)[0] == 0.6
