"""The baseline for bench/pmedian.py: PySAL spopt's PMedian (PuLP + CBC) on one cost matrix.

It runs inside its own virtual environment (spopt pulls in geopandas, scikit-learn and more,
none of which the app needs), so it imports nothing from servicepoint. Usage:

    python pmedian_spopt.py MATRIX.npy P TIME_LIMIT   →  one JSON line
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pulp
from spopt.locate import PMedian


def main() -> None:
    matrix, p, limit = np.load(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    started = time.perf_counter()
    model = PMedian.from_cost_matrix(matrix, np.ones(matrix.shape[0]), p_facilities=p)
    built = time.perf_counter()
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, threads=1)
    status = model.problem.solve(solver)
    finished = time.perf_counter()
    objective = pulp.value(model.problem.objective)
    # CBC stopped by the time limit reports its incumbent without a proof; say so.
    proven = pulp.LpStatus[status] == "Optimal" and finished - built < limit * 0.99
    answer = {
        "objective": None if objective is None else float(objective),
        "optimal": proven,
        "status": pulp.LpStatus[status],
        "build_seconds": built - started,
        "seconds": finished - started,
    }
    sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
