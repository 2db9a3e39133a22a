"""No file the project ships names a path of the machine it was written on."""

from __future__ import annotations

from pathlib import Path

from servicepoint.catalog.datafile import MACHINE_PATH
from servicepoint.config import PACKAGE_DIR

SRC = PACKAGE_DIR.parent
BINARY = {".pyc", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".mo", ".gz", ".zip"}


def shipped_text_files() -> list[Path]:
    files = [p for p in SRC.rglob("*") if p.is_file() and p.suffix.lower() not in BINARY]
    return [p for p in files if "__pycache__" not in p.parts]


def test_no_absolute_machine_path_in_src_or_the_data_folder() -> None:
    offenders = []
    for path in shipped_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if MACHINE_PATH.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()[:120]}")
    assert not offenders, "\n".join(offenders)


def test_the_scan_covers_the_data_folder_and_finds_a_path() -> None:
    names = {p.name for p in shipped_text_files()}
    assert {"personalausweis-beantragen.yaml", "locations.yaml", "base.html"} <= names
    assert MACHINE_PATH.search("see /Users/anna/daten/SOURCES.md")
    assert MACHINE_PATH.search("(via /home/anna/x.csv)")
    assert MACHINE_PATH.search("C:\\Daten\\quellen.txt")
    assert not MACHINE_PATH.search("https://example.org/home/x and /termine/buchen")
