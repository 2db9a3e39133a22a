"""Re-extract German msgids and merge them into the English catalog (`make messages`).

English texts live in src/servicepoint/translations/en/LC_MESSAGES/messages.po; msgids without a
translation are listed so nothing ships half-translated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TDIR = ROOT / "src" / "servicepoint" / "translations"
BIN = Path(sys.executable).parent


def _translated(value: object) -> bool:
    return all(value) if isinstance(value, tuple | list) else bool(value)


def main() -> int:
    pot = TDIR / "messages.pot"
    subprocess.run([BIN / "pybabel", "extract", "-F", "babel.cfg", "-k", "N_", "-k",
                    "translate:2", "-k", "t", "-o", str(pot), "--no-location", "--omit-header",
                    "--sort-output", "."], cwd=ROOT, check=True, capture_output=True)
    po = TDIR / "en" / "LC_MESSAGES" / "messages.po"
    if po.exists():
        subprocess.run([BIN / "pybabel", "update", "-i", str(pot), "-o", str(po), "-l", "en",
                        "--no-fuzzy-matching", "--omit-header"], check=True, capture_output=True)
    else:
        subprocess.run([BIN / "pybabel", "init", "-i", str(pot), "-o", str(po), "-l", "en"],
                       check=True, capture_output=True)
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        missing = [m.id for m in read_po(fh) if m.id and not _translated(m.string)]
    for msgid in missing:
        print(f"untranslated: {msgid}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
