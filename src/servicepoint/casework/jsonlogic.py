"""JSONLogic with the semantics of json-logic-js 2.0.5, the evaluator the browser runs.

The server decides and the browser gives instant feedback from the same form file, so both
must agree on every value, edge cases included. The Python ports we tried (panzi-json-logic,
json-logic-qubit) follow Python's rules in places (None == False, "1_000" as a number, 0 == False
by identity, ZeroDivisionError), so this module ports json-logic-js operation by operation on
top of JavaScript's own coercions (ECMAScript ToNumber, ToString, ==, <, parseFloat).
tests/e2e/test_casework_parity.py runs every operator on edge values in Debian chromium and
requires identical results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any


class _Undefined:
    """JavaScript's undefined: an argument that was not given (JSON itself has only null)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()
NAN = float("nan")
# ECMAScript WhiteSpace and LineTerminator: what Number(" 1 ") and parseFloat skip.
JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)")


class JsonLogicError(ValueError):
    """An expression json-logic-js would throw on (unknown operation, `*` with no value)."""


def js_type(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def truthy(value: Any) -> bool:
    """jsonLogic.truthy: JavaScript's, except that an empty list is false."""
    if isinstance(value, list):
        return len(value) > 0
    return _js_bool(value)


def _js_bool(value: Any) -> bool:
    kind = js_type(value)
    if kind in ("undefined", "null"):
        return False
    if kind == "number":
        return not (value == 0 or math.isnan(value))
    if kind in ("boolean", "string"):
        return bool(value)
    return True


# --- ECMAScript conversions ---------------------------------------------------------------


def number_text(value: float) -> str:
    """Number::toString: integers without ".0", exponents only from 1e21 and below 1e-6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e21:
        return str(int(value))
    digits, exponent = _shortest(float(value))
    return _place(digits, exponent, "-" if value < 0 else "")


def _shortest(value: float) -> tuple[str, int]:
    """The shortest round-trip digits and the decimal exponent n (value = 0.digits × 10^n)."""
    mantissa, _, exp = f"{abs(value):.17e}".partition("e")
    for precision in range(1, 18):
        text = f"{abs(value):.{precision - 1}e}"
        if float(text) == abs(value):
            mantissa, _, exp = text.partition("e")
            break
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    return digits, int(exp) + 1


def _place(digits: str, n: int, sign: str) -> str:
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp = n - 1
    mark = "+" if exp >= 0 else "-"
    body = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{body}e{mark}{abs(exp)}"


def to_string(value: Any) -> str:
    kind = js_type(value)
    if kind in ("undefined", "null"):
        return "undefined" if kind == "undefined" else "null"
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return number_text(value)
    if kind == "string":
        return str(value)
    return to_string(to_primitive(value))


def _join(items: list[Any], separator: str) -> str:
    """Array.prototype.join: null and undefined become empty text."""
    return separator.join(
        "" if item is None or item is UNDEFINED else to_string(item) for item in items
    )


def to_primitive(value: Any) -> Any:
    """An array is its joined text, any other object "[object Object]"."""
    if isinstance(value, list):
        return _join(value, ",")
    if isinstance(value, dict):
        return "[object Object]"
    return value


def to_number(value: Any) -> float:
    kind = js_type(value)
    if kind == "undefined":
        return NAN
    if kind == "null":
        return 0.0
    if kind in ("boolean", "number"):
        return float(value)
    if kind == "object":
        return to_number(to_primitive(value))
    return _string_number(str(value))


def _string_number(text: str) -> float:
    text = text.strip(JS_SPACE)
    if not text:
        return 0.0
    radix = RADIX.fullmatch(text)
    if radix:
        base = {"x": 16, "o": 8, "b": 2}[radix.group(1).lower()]
        try:
            return float(int(radix.group(2), base))
        except ValueError:
            return NAN
    if DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    return NAN


def parse_float(value: Any) -> float:
    """parseFloat: the longest decimal at the start of the text, after leading spaces."""
    match = DECIMAL.match(to_string(value).lstrip(JS_SPACE))
    return float(match.group(0).replace("Infinity", "inf")) if match else NAN


def _integer(value: Any) -> float:
    """ToIntegerOrInfinity."""
    number = to_number(value)
    if math.isnan(number):
        return 0.0
    return number if math.isinf(number) else float(math.trunc(number))


def _units(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def _from_units(data: bytes) -> str:
    return data.decode("utf-16-le", "surrogatepass")


def _length(text: str) -> int:
    return len(_units(text)) // 2


# --- comparisons -----------------------------------------------------------------------------


def strict_equal(a: Any, b: Any) -> bool:
    kind = js_type(a)
    if kind != js_type(b):
        return False
    if kind == "object":
        return a is b
    if kind == "number":
        return float(a) == float(b)
    return bool(a == b) if kind in ("string", "boolean") else True


def loose_equal(a: Any, b: Any) -> bool:
    ta, tb = js_type(a), js_type(b)
    if ta == tb:
        return strict_equal(a, b)
    nullish = ("null", "undefined")
    if ta in nullish or tb in nullish:
        return ta in nullish and tb in nullish
    if ta == "boolean":
        return loose_equal(to_number(a), b)
    if tb == "boolean":
        return loose_equal(a, to_number(b))
    if ta == "object":
        return loose_equal(to_primitive(a), b)
    if tb == "object":
        return loose_equal(a, to_primitive(b))
    return to_number(a) == to_number(b)  # a number and a string


def _less(a: Any, b: Any) -> bool | None:
    """The abstract relational comparison a < b; None where JavaScript says undefined (NaN)."""
    pa, pb = to_primitive(a), to_primitive(b)
    if isinstance(pa, str) and isinstance(pb, str):
        return _units_be(pa) < _units_be(pb)  # by UTF-16 code units, as JavaScript compares
    na, nb = to_number(pa), to_number(pb)
    if math.isnan(na) or math.isnan(nb):
        return None
    return na < nb


def _units_be(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def less(a: Any, b: Any) -> bool:
    return _less(a, b) is True


def less_equal(a: Any, b: Any) -> bool:
    return _less(b, a) is False


# --- json-logic-js operations ------------------------------------------------------------------


def _arg(args: list[Any], index: int) -> Any:
    return args[index] if index < len(args) else UNDEFINED


def _between(compare: Callable[[Any, Any], bool]) -> Callable[[Any, list[Any]], Any]:
    def operation(_data: Any, args: list[Any]) -> bool:
        a, b = _arg(args, 0), _arg(args, 1)
        if len(args) < 3:
            return compare(a, b)
        return compare(a, b) and compare(b, args[2])

    return operation


def _in(_data: Any, args: list[Any]) -> bool:
    needle, haystack = _arg(args, 0), _arg(args, 1)
    if not _js_bool(haystack):
        return False
    if isinstance(haystack, str):
        return _unit_aligned(to_string(needle), haystack)
    if isinstance(haystack, list):
        return any(strict_equal(needle, item) for item in haystack)
    return False


def _unit_aligned(needle: str, haystack: str) -> bool:
    """indexOf counts whole 16-bit units: a byte match at an odd offset is no match."""
    data, part = _units(haystack), _units(needle)
    start = data.find(part)
    while start != -1 and start % 2:
        start = data.find(part, start + 1)
    return start != -1


def _substr(text: str, start: Any, length: Any) -> str:
    """String.prototype.substr on UTF-16 code units."""
    units = _units(text)
    size = len(units) // 2
    begin = _integer(start)
    if begin == -math.inf:
        begin = 0
    elif begin < 0:
        begin = max(size + begin, 0)
    begin = min(begin, size)
    count = size if length is UNDEFINED else _integer(length)
    count = min(max(count, 0), size)
    end = min(begin + count, size)
    return _from_units(units[int(begin) * 2 : int(end) * 2])


def _plus(a: Any, b: Any) -> Any:
    """JavaScript's binary +: text if either side is text, a number otherwise."""
    pa, pb = to_primitive(a), to_primitive(b)
    if isinstance(pa, str) or isinstance(pb, str):
        return to_string(pa) + to_string(pb)
    return to_number(pa) + to_number(pb)


def _substr_op(_data: Any, args: list[Any]) -> str:
    source, start, end = to_string(_arg(args, 0)), _arg(args, 1), _arg(args, 2)
    if less(end, 0):
        temp = _substr(source, start, UNDEFINED)
        return _substr(temp, 0, _plus(_length(temp), end))
    return _substr(source, start, end)


def _divide(a: Any, b: Any) -> float:
    x, y = to_number(a), to_number(b)
    if y == 0:
        if x == 0 or math.isnan(x):
            return NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _remainder(a: Any, b: Any) -> float:
    x, y = to_number(a), to_number(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or y == 0:
        return NAN
    if math.isinf(y) or x == 0:
        return x
    return math.fmod(x, y)


def _minus(_data: Any, args: list[Any]) -> float:
    a, b = _arg(args, 0), _arg(args, 1)
    if b is UNDEFINED:
        return -to_number(a)
    return to_number(a) - to_number(b)


def _sum(_data: Any, args: list[Any]) -> float:
    total: float = 0
    for arg in args:
        total = parse_float(total) + parse_float(arg)
    return total


def _product(_data: Any, args: list[Any]) -> Any:
    if not args:
        raise JsonLogicError("Reduce of empty array with no initial value")
    result = args[0]
    for arg in args[1:]:
        result = parse_float(result) * parse_float(arg)
    return result


def _extreme(pick: Callable[..., float], empty: float) -> Callable[[Any, list[Any]], float]:
    def operation(_data: Any, args: list[Any]) -> float:
        numbers = [to_number(arg) for arg in args]
        if any(math.isnan(n) for n in numbers):
            return NAN
        return pick(numbers) if numbers else empty

    return operation


def _merge(_data: Any, args: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for arg in args:
        merged.extend(arg if isinstance(arg, list) else [arg])
    return merged


def _property(data: Any, name: str) -> Any:
    if isinstance(data, dict):
        return data.get(name, UNDEFINED)
    if isinstance(data, list | str):
        size = len(data) if isinstance(data, list) else _length(data)
        if name == "length":
            return size
        if name.isdigit() and name.isascii() and str(int(name)) == name and int(name) < size:
            index = int(name)
            return (
                data[index]
                if isinstance(data, list)
                else _from_units(_units(data)[index * 2 : index * 2 + 2])
            )
    return UNDEFINED


def _var(data: Any, args: list[Any]) -> Any:
    path, default = _arg(args, 0), _arg(args, 1)
    not_found = None if default is UNDEFINED else default
    if path is UNDEFINED or path is None or path == "":
        return data
    for name in to_string(path).split("."):
        if data is None or data is UNDEFINED:
            return not_found
        data = _property(data, name)
        if data is UNDEFINED:
            return not_found
    return data


def _missing(data: Any, args: list[Any]) -> list[Any]:
    keys = args[0] if args and isinstance(args[0], list) else args
    missing = []
    for key in keys:
        value = evaluate({"var": key}, data)
        if value is None or (isinstance(value, str) and value == ""):
            missing.append(key)
    return missing


def _missing_some(data: Any, args: list[Any]) -> list[Any]:
    need, options = _arg(args, 0), _arg(args, 1)
    missing = evaluate({"missing": options}, data)
    have = _plus(_property(options, "length"), -len(missing)) if options is not UNDEFINED else NAN
    return [] if less_equal(need, have) else missing


OPERATIONS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "==": lambda _d, a: loose_equal(_arg(a, 0), _arg(a, 1)),
    "!=": lambda _d, a: not loose_equal(_arg(a, 0), _arg(a, 1)),
    "===": lambda _d, a: strict_equal(_arg(a, 0), _arg(a, 1)),
    "!==": lambda _d, a: not strict_equal(_arg(a, 0), _arg(a, 1)),
    ">": lambda _d, a: less(_arg(a, 1), _arg(a, 0)),
    ">=": lambda _d, a: less_equal(_arg(a, 1), _arg(a, 0)),
    "<": _between(less),
    "<=": _between(less_equal),
    "!!": lambda _d, a: truthy(_arg(a, 0)),
    "!": lambda _d, a: not truthy(_arg(a, 0)),
    "%": lambda _d, a: _remainder(_arg(a, 0), _arg(a, 1)),
    "log": lambda _d, a: _arg(a, 0),
    "in": _in,
    "cat": lambda _d, a: _join(a, ""),
    "substr": _substr_op,
    "+": _sum,
    "*": _product,
    "-": _minus,
    "/": lambda _d, a: _divide(_arg(a, 0), _arg(a, 1)),
    "min": _extreme(min, math.inf),
    "max": _extreme(max, -math.inf),
    "merge": _merge,
    "var": _var,
    "missing": _missing,
    "missing_some": _missing_some,
}


def is_logic(logic: Any) -> bool:
    return isinstance(logic, dict) and len(logic) == 1


def unknown_operations(logic: Any) -> set[str]:
    """Operations an expression names that json-logic-js does not know (checked on load)."""
    if isinstance(logic, list):
        return set().union(*(unknown_operations(item) for item in logic)) if logic else set()
    if not is_logic(logic):
        return set()
    op, values = next(iter(logic.items()))
    found = set() if op in OPERATIONS or op in CONTROL else {op}
    return found | unknown_operations(values)


def evaluate(logic: Any, data: Any) -> Any:
    """jsonLogic.apply, step for step (results may include UNDEFINED; see `apply`)."""
    if isinstance(logic, list):
        return [evaluate(item, data) for item in logic]
    if not is_logic(logic):
        return logic
    op, values = next(iter(logic.items()))
    if not isinstance(values, list):
        values = [values]
    control = CONTROL.get(op)
    if control is not None:
        return control(values, data)
    operation = OPERATIONS.get(op)
    if operation is None:
        raise JsonLogicError(f"Unrecognized operation {op}")
    return operation(data, [evaluate(value, data) for value in values])


def _if(values: list[Any], data: Any) -> Any:
    index = 0
    while index < len(values) - 1:
        if truthy(evaluate(values[index], data)):
            return evaluate(values[index + 1], data)
        index += 2
    return evaluate(values[index], data) if len(values) == index + 1 else None


def _and(values: list[Any], data: Any) -> Any:
    current = UNDEFINED
    for value in values:
        current = evaluate(value, data)
        if not truthy(current):
            return current
    return current


def _or(values: list[Any], data: Any) -> Any:
    current = UNDEFINED
    for value in values:
        current = evaluate(value, data)
        if truthy(current):
            return current
    return current


def _scoped(values: list[Any], data: Any) -> tuple[Any, Any]:
    return evaluate(_arg(values, 0), data), _arg(values, 1)


def _filter(values: list[Any], data: Any) -> list[Any]:
    items, logic = _scoped(values, data)
    return (
        [item for item in items if truthy(evaluate(logic, item))] if isinstance(items, list) else []
    )


def _map(values: list[Any], data: Any) -> list[Any]:
    items, logic = _scoped(values, data)
    return [evaluate(logic, item) for item in items] if isinstance(items, list) else []


def _reduce(values: list[Any], data: Any) -> Any:
    items, logic = _scoped(values, data)
    initial = evaluate(values[2], data) if len(values) > 2 else None
    if not isinstance(items, list):
        return initial
    accumulator = initial
    for item in items:
        accumulator = evaluate(logic, {"current": item, "accumulator": accumulator})
    return accumulator


def _all(values: list[Any], data: Any) -> bool:
    items, logic = _scoped(values, data)
    if not isinstance(items, list) or not items:
        return False
    return all(truthy(evaluate(logic, item)) for item in items)


def _some(values: list[Any], data: Any) -> bool:
    items, logic = _scoped(values, data)
    if not isinstance(items, list):
        return False
    return any(truthy(evaluate(logic, item)) for item in items)


def _none(values: list[Any], data: Any) -> bool:
    return not _some(values, data)


CONTROL: dict[str, Callable[[list[Any], Any], Any]] = {
    "if": _if,
    "?:": _if,
    "and": _and,
    "or": _or,
    "filter": _filter,
    "map": _map,
    "reduce": _reduce,
    "all": _all,
    "none": _none,
    "some": _some,
}


def apply(logic: Any, data: Mapping[str, Any] | Any = None) -> Any:
    """Evaluate an expression on data the way json-logic-js does; undefined comes back as None."""
    result = evaluate(logic, data)
    return None if result is UNDEFINED else result
