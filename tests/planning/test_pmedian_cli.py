"""`servicepoint plan pmedian` (contract: API.md "Planning" and "Planning (more)")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicepoint.cli import app
from tests.planning.test_pmedian_solver import bench_data

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["plan", "pmedian", *args])
    return result.exit_code, result.stdout, result.stderr


def test_orlib_json_is_exactly_the_contract() -> None:
    path = bench_data() / "pmed" / "pmed1.txt"
    if not path.exists():
        pytest.skip(f"OR-Library pmed1 is not at {path.parent}")
    code, out, _ = run("--orlib", str(path), "--json")
    assert code == 0
    answer = json.loads(out)  # stdout holds the JSON object and nothing else
    assert list(answer) == ["objective", "facilities", "optimal", "seconds"]
    assert answer["objective"] == 5819 and answer["optimal"] is True
    assert len(answer["facilities"]) == 5 and all(1 <= f <= 100 for f in answer["facilities"])
    assert isinstance(answer["seconds"], float)


def test_points_json_uses_the_file_ids(tmp_path: Path) -> None:
    path = tmp_path / "towns.txt"
    path.write_text("# id x y\n10 0 0\n20 1 0\n30 2 0\n40 10 0\n50 11 0\n", encoding="utf-8")
    code, out, _ = run("--points", str(path), "--p", "2", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["objective"] == 3 and answer["optimal"] is True
    assert answer["facilities"][0] == 20 and answer["facilities"][1] in (40, 50)


def test_without_json_the_result_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "towns.txt"
    path.write_text("a 0 0\nb 1 0\nc 5 0\n", encoding="utf-8")
    code, out, _ = run("--points", str(path), "--p", "1")
    assert code == 0
    assert "Zielwert 5" in out and "bewiesen optimal" in out and "Standorte: b" in out


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("edges.txt", "3 2 1\n1 2 5\n", "2 Kanten"),
        ("loop.txt", "2 1 1\n1 1 5\n", "sich selbst"),
        ("binary.txt", None, "UTF-8"),
    ],
)
def test_dirty_orlib_files_exit_2_with_a_message(
    tmp_path: Path, name: str, text: str | None, fragment: str
) -> None:
    path = tmp_path / name
    if text is None:
        path.write_bytes(b"\xff\xfe\x00\x81 binary")
    else:
        path.write_text(text, encoding="utf-8")
    code, out, err = run("--orlib", str(path), "--json")
    assert code == 2 and out == ""
    assert fragment in err


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    points = tmp_path / "p.txt"
    points.write_text("1 0 0\n2 1 1\n1 3 3\n", encoding="utf-8")
    code, _, err = run("--points", str(points), "--p", "1", "--json")
    assert code == 2 and "Zeile 3" in err
    points.write_text("1 0 0\n2 1 1\n", encoding="utf-8")
    code, _, err = run("--points", str(points), "--p", "3", "--json")
    assert code == 2 and "p = 3" in err
    assert run("--points", str(points), "--json")[0] == 2  # --points needs --p
    assert run("--json")[0] == 2  # neither file
    code, _, err = run("--orlib", str(tmp_path / "missing.txt"), "--json")
    assert code == 2 and "missing.txt" in err
