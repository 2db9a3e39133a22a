"""Count the word-list entries held in code (issue 18: "the code's word lists shrink").

Language knowledge belongs in `src/servicepoint/data/language/<lang>/*.yaml`; this counts what
is still written into the assistant's modules and the catalog search, parsed with `ast`:

- containers: string constants that are elements of a set, list, tuple or dict literal with at
  least three string elements (a dict counts its string keys and values);
- split words: the words of a string literal split in code (`"a b c".split()`, `.split("|")`),
  when there are at least three;
- regex branches: the branches of word alternations (`kosten|gebuehr|preis`, at least three
  word branches) in any other string literal, such as regex patterns and their f-string parts.

Each string constant counts under one heading only. Docstrings are not counted.

    python scripts/count_wordlists.py [--json] [files …]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_ELEMENTS = 3


def default_files(root: Path = ROOT) -> list[Path]:
    """The modules the count covers: the assistant's and the catalog search."""
    package = root / "src" / "servicepoint"
    return [*sorted((package / "assistant").glob("*.py")), package / "catalog" / "search.py"]


# One branch of a word alternation: starts with a letter, then letters, spaces, apostrophes,
# hyphens, an optional letter (`e-?mail`), `\w` with a quantifier (`telefon\w*`) or a group
# (`(?:zu )?`, `r(?:ü|ue)ckruf`).
_BRANCH = r"[^\W\d_](?:[^\W_]|[ '\-]|\?|\\w[*+?]?|\(\?:[^()]*\)\??)*"
_ALTERNATION = re.compile(rf"(?<![\w\\]){_BRANCH}(?:\|{_BRANCH}){{{MIN_ELEMENTS - 1},}}")


@dataclass
class Count:
    path: str
    containers: int = 0
    split_words: int = 0
    regex_branches: int = 0

    @property
    def total(self) -> int:
        return self.containers + self.split_words + self.regex_branches


def _is_str(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _text(node: ast.AST) -> str:
    """The value of a string constant (checked with _is_str)."""
    assert isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring constants of the module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and _is_str(body[0].value):
                found.add(id(body[0].value))
    return found


def _elements(node: ast.AST) -> list[ast.expr | None]:
    if isinstance(node, ast.Set | ast.List | ast.Tuple):
        return list(node.elts)
    if isinstance(node, ast.Dict):
        return [*node.keys, *node.values]
    return []


def _split_words(node: ast.Call) -> tuple[ast.Constant, int] | None:
    """A string literal split in code, with its number of words."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == "split" and _is_str(func.value)):
        return None
    literal = func.value
    assert isinstance(literal, ast.Constant)
    sep = _text(node.args[0]) if node.args and _is_str(node.args[0]) else None
    return literal, len([w for w in _text(literal).split(sep) if w])


def alternation_branches(text: str) -> int:
    """The branches of the word alternations (three or more branches) in a pattern string."""
    return sum(_top_level_branches(m.group(0)) for m in _ALTERNATION.finditer(text))


def _top_level_branches(alternation: str) -> int:
    """`a|b(?:c|d)|e` has three branches: bars inside a group do not count."""
    depth, bars = 0, 0
    for char in alternation:
        depth += (char == "(") - (char == ")")
        bars += char == "|" and depth == 0
    return bars + 1


def count_source(source: str, path: str = "<string>") -> Count:
    """The word-list entries of one module's source."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    out = Count(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (split := _split_words(node)):
            literal, n = split
            skip.add(id(literal))
            if n >= MIN_ELEMENTS:
                out.split_words += n
    for node in ast.walk(tree):
        strings = [e for e in _elements(node) if _is_str(e) and id(e) not in skip]
        if len(strings) >= MIN_ELEMENTS:
            out.containers += len(strings)
            skip.update(id(e) for e in strings)
    for node in ast.walk(tree):
        if _is_str(node) and id(node) not in skip:
            out.regex_branches += alternation_branches(_text(node))
    return out


def count_files(files: Iterable[Path], root: Path = ROOT) -> list[Count]:
    counts = []
    for path in files:
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        counts.append(count_source(path.read_text(encoding="utf-8"), name))
    return counts


def _table(counts: Sequence[Count]) -> str:
    width = max([len("total"), *(len(c.path) for c in counts)])
    head = f"{'file':<{width}}  {'containers':>10}  {'split':>6}  {'regex':>6}  {'total':>6}"
    lines = [head, "-" * len(head)]
    for c in counts:
        if c.total:
            row = f"{c.containers:>10}  {c.split_words:>6}  {c.regex_branches:>6}  {c.total:>6}"
            lines.append(f"{c.path:<{width}}  {row}")
    lines.append("-" * len(head))
    sums = [sum(getattr(c, f) for c in counts) for f in ("containers", "split_words")]
    regex = sum(c.regex_branches for c in counts)
    total = sum(c.total for c in counts)
    lines.append(f"{'total':<{width}}  {sums[0]:>10}  {sums[1]:>6}  {regex:>6}  {total:>6}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("files", nargs="*", type=Path, help="modules (default: the assistant's)")
    args = parser.parse_args(argv)
    counts = count_files([p.resolve() for p in args.files] or default_files())
    if args.json:
        files = [asdict(c) | {"total": c.total} for c in counts]
        print(json.dumps({"files": files, "total": sum(c.total for c in counts)}, indent=2))
    else:
        print(_table(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
