"""`make bench`: every benchmark prints its figures beside a baseline measured in the same run."""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench import (
    applications,
    assistant,
    assistant_semantic,
    booking_load,
    first_search,
    mobile,
    pmedian,
    slot_search,
    video,
)


def main() -> int:
    only = {arg for arg in sys.argv[1:] if not arg.startswith("--")}
    quick = "--quick" in sys.argv[1:]  # a smoke run of the suites that have one (video)
    suites: dict[str, Callable[[], bool]] = {
        "assistant": assistant.run,
        "assistant-semantic": assistant_semantic.run,
        "slots": slot_search.run,
        "booking": booking_load.run,
        "first": first_search.run,
        "applications": applications.run,
        "pmedian": pmedian.run,
        "mobile": mobile.run,
        "video": lambda: video.run(quick=quick),
    }

    failed = 0
    for name, run in suites.items():
        if only and name not in only:
            continue
        failed += 0 if run() else 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
