r"""Count the word-list entries held in code (issue 18: "the code's word lists shrink").

Language knowledge belongs in `src/servicepoint/data/language/<lang>/*.yaml`; this counts what
is still written into the assistant's modules and the catalog search, parsed with `ast`.

Candidates (each string constant under one heading only; docstrings never):

- containers: string constants that are elements of a set, list, tuple or dict literal with at
  least three string elements (a dict: its string keys and values);
- split words: the words of a string literal split in code (`"a b c".split()`, `.split("|")`),
  when there are at least three;
- regex branches: the branches of word alternations (`kosten|gebuehr|preis`, at least three
  word branches) in any other string literal, such as regex patterns and their f-string parts.

Word list or names. Many candidate lists are the program's own vocabulary (field, aspect,
channel and feature names such as "cost", "summary", "online"), not language knowledge. A
candidate is a *strict word* when both hold:

1. it is shaped like natural-language text: after trimming surrounding spaces, lower-case
   letters (umlauts and ß included) with spaces, apostrophes or hyphens between them, digits
   allowed only as separate tokens of a phrase with letters ("unter 18"); for a regex branch,
   after dropping the regex syntax (`\w*`, `(?:`, `)`, `?`). Anything with an underscore, a
   dot or a capital ("E-Mail", "answer_threshold", "Amerika") is not;
2. it is not used as a name anywhere in the package `src/servicepoint`: not an identifier
   (variable, attribute, argument, keyword, function or class name) and not a string constant
   that stands alone, outside a candidate list (as in `a == "duration"`, `("de", "en")` or
   `data.get("summary")`).

A container, split literal or alternation is a *word list* when more than half of its
candidates are strict words; it then counts every candidate that fulfils rule 1 (a stem list
keeps "cost" although "cost" is also a name). The candidates of the other lists, and those of
a word list failing rule 1, are reported as "names" and not counted. The rule is a heuristic:
a word list made mostly of words that are also names in the code would be missed, and a list
of made-up lower-case labels never used singly would count.

    python scripts/count_wordlists.py [--json] [--root DIR] [files …]

`--root` counts another checkout (e.g. `git archive <commit> src | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
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
# Natural-language text: lower-case letters, spaces, apostrophes and hyphens between them, and
# digits as tokens of a phrase ("unter 18"); at least one letter.
_WORDLIKE = re.compile(r"(?=.*[^\W\d_])(?:[^\W\d_]+|\d+)(?:[ '\-]+(?:[^\W\d_]+|\d+))*")
_REGEX_SYNTAX = re.compile(r"\\w[*+?]?|\(\?:|[()?|]")


@dataclass
class Count:
    path: str
    containers: int = 0
    split_words: int = 0
    regex_branches: int = 0
    names: int = 0  # candidates that are names or other strings, not words (not in total)

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


def _split_words(node: ast.Call) -> tuple[ast.Constant, list[str]] | None:
    """A string literal split in code, with its words."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == "split" and _is_str(func.value)):
        return None
    literal = func.value
    assert isinstance(literal, ast.Constant)
    sep = _text(node.args[0]) if node.args and _is_str(node.args[0]) else None
    return literal, [w for w in _text(literal).split(sep) if w]


def _alternations(text: str) -> list[list[str]]:
    """The branches of each word alternation (three or more branches) in a pattern string."""
    return [_top_level_branches(m.group(0)) for m in _ALTERNATION.finditer(text)]


def alternation_branches(text: str) -> int:
    """How many branches the word alternations in a pattern string have."""
    return sum(len(branches) for branches in _alternations(text))


def _top_level_branches(alternation: str) -> list[str]:
    """`a|b(?:c|d)|e` has three branches: bars inside a group do not split."""
    depth, branches, current = 0, [], ""
    for char in alternation:
        depth += (char == "(") - (char == ")")
        if char == "|" and depth == 0:
            branches.append(current)
            current = ""
        else:
            current += char
    return [*branches, current]


@dataclass
class _Lists:
    """A module's candidate lists, each a list of strings, by heading."""

    containers: list[list[str]]
    splits: list[list[str]]
    alternations: list[list[str]]
    listed: set[int]  # ids of the constants that belong to a list (or are a split literal)


def _lists(tree: ast.Module) -> _Lists:
    skip = _docstrings(tree)
    out = _Lists([], [], [], set())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (split := _split_words(node)):
            literal, found = split
            skip.add(id(literal))
            out.listed.add(id(literal))
            if len(found) >= MIN_ELEMENTS:
                out.splits.append(found)
    for node in ast.walk(tree):
        strings = [
            e
            for e in _elements(node)
            if isinstance(e, ast.Constant) and _is_str(e) and id(e) not in skip
        ]
        if len(strings) >= MIN_ELEMENTS:
            out.containers.append([_text(e) for e in strings])
            skip.update(id(e) for e in strings)
            out.listed.update(id(e) for e in strings)
    for node in ast.walk(tree):
        if _is_str(node) and id(node) not in skip:
            out.alternations += _alternations(_text(node))
    return out


def _identifiers(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.arg) or (isinstance(node, ast.keyword) and node.arg):
            yield str(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name


def names_in(tree: ast.Module) -> set[str]:
    """What a module uses as a name: its identifiers and the string constants that stand alone
    (outside any candidate list; docstrings aside)."""
    listed = _lists(tree).listed | _docstrings(tree)
    alone = {_text(node) for node in ast.walk(tree) if _is_str(node) and id(node) not in listed}
    return alone | set(_identifiers(tree))


def package_names(root: Path = ROOT) -> frozenset[str]:
    """The names used anywhere in the package (rule 2 of the module docstring)."""
    found: set[str] = set()
    for path in sorted((root / "src" / "servicepoint").rglob("*.py")):
        found |= names_in(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(found)


def is_wordlike(text: str, regex: bool = False) -> bool:
    """Rule 1 of the module docstring."""
    text = _REGEX_SYNTAX.sub("", text).strip() if regex else text.strip()
    return bool(_WORDLIKE.fullmatch(text)) and text == text.lower()


def is_word(text: str, names: frozenset[str], regex: bool = False) -> bool:
    """Rules 1 and 2 of the module docstring: a strict word."""
    return is_wordlike(text, regex) and text.strip() not in names and text not in names


def _words(lists: list[list[str]], names: frozenset[str], regex: bool) -> tuple[int, int]:
    """(words, names) over the candidate lists: a word list counts its word-shaped items."""
    words = other = 0
    for items in lists:
        strict = sum(is_word(item, names, regex) for item in items)
        shaped = sum(is_wordlike(item, regex) for item in items) if strict * 2 > len(items) else 0
        words, other = words + shaped, other + len(items) - shaped
    return words, other


def count_source(source: str, path: str = "<string>", names: frozenset[str] = frozenset()) -> Count:
    """The word-list entries of one module's source; `names` are the package's names (the
    module's own are always added)."""
    tree = ast.parse(source)
    lists = _lists(tree)
    known = names | frozenset(names_in(tree))
    (containers, c_names), (split, s_names), (regex, r_names) = (
        _words(lists.containers, known, regex=False),
        _words(lists.splits, known, regex=False),
        _words(lists.alternations, known, regex=True),
    )
    return Count(path, containers, split, regex, names=c_names + s_names + r_names)


def count_files(files: Iterable[Path], root: Path = ROOT) -> list[Count]:
    names = package_names(root)
    counts = []
    for path in files:
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        counts.append(count_source(path.read_text(encoding="utf-8"), name, names))
    return counts


def _row(label: str, width: int, values: Sequence[int]) -> str:
    cells = "  ".join(f"{v:>{w}}" for v, w in zip(values, (10, 6, 6, 6, 6), strict=True))
    return f"{label:<{width}}  {cells}"


def _table(counts: Sequence[Count]) -> str:
    width = max([len("total"), *(len(c.path) for c in counts)])
    head = f"{'file':<{width}}  {'containers':>10}  {'split':>6}  {'regex':>6}  {'words':>6}"
    head += f"  {'names':>6}"
    lines = [head, "-" * len(head)]

    def values(c: Count) -> list[int]:
        return [c.containers, c.split_words, c.regex_branches, c.total, c.names]

    lines += [_row(c.path, width, values(c)) for c in counts if c.total or c.names]
    lines.append("-" * len(head))
    sums = [sum(column) for column in zip(*(values(c) for c in counts), strict=True)]
    lines.append(_row("total", width, sums))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to count")
    parser.add_argument("files", nargs="*", type=Path, help="modules (default: the assistant's)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    counts = count_files([p.resolve() for p in args.files] or default_files(root), root)
    if args.json:
        files = [asdict(c) | {"total": c.total} for c in counts]
        total = sum(c.total for c in counts)
        print(json.dumps({"files": files, "total": total}, indent=2))
    else:
        print(_table(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
