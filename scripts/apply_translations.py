"""Fill English translations into the catalog from a Python file of dicts T and PLURALS.

Usage: python scripts/apply_translations.py FILE.py  (then `make messages` to check).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "src/servicepoint/translations/en/LC_MESSAGES/messages.po"


def main(source: str) -> int:
    data = runpy.run_path(source)
    texts, plurals = data.get("T", {}), data.get("PLURALS", {})
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if isinstance(message.id, tuple) and key in plurals:
            message.string = plurals[key]
        elif not isinstance(message.id, tuple) and key in texts:
            message.string = texts[key]
    with PO.open("wb") as fh:
        write_po(fh, catalog, sort_output=True, no_location=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
