"""JSONLogic with the semantics of json-logic-js 2.0.5, the evaluator the browser runs.

The server decides and the browser gives instant feedback from the same form file, so both
must agree on every value, edge cases included. The Python port we tried (panzi-json-logic)
follows Python's rules in places (None == False, "1_000" as a number, True == 1 by identity,
ZeroDivisionError): 8,359 of 39,200 edge evaluations differed from chromium. So this module
ports json-logic-js operation by operation on top of JavaScript's own coercions (ECMAScript
ToNumber, ToString, ==, <, parseFloat).
tests/e2e/test_casework_parity.py runs every operator on edge values in Debian chromium and
requires identical results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from servicepoint.casework.ecmascript import (
    NAN,
    UNDEFINED,
    from_utf16,
    join,
    js_bool,
    less,
    less_equal,
    loose_equal,
    parse_float,
    strict_equal,
    to_integer,
    to_number,
    to_primitive,
    to_string,
    truthy,
    utf16,
    utf16_length,
)

__all__ = [
    "UNDEFINED",
    "JsonLogicError",
    "apply",
    "evaluate",
    "to_number",
    "truthy",
    "unknown_operations",
]


class JsonLogicError(ValueError):
    """An expression json-logic-js would throw on (unknown operation, `*` with no value)."""


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
    if not js_bool(haystack):
        return False
    if isinstance(haystack, str):
        return _unit_aligned(to_string(needle), haystack)
    if isinstance(haystack, list):
        return any(strict_equal(needle, item) for item in haystack)
    return False


def _unit_aligned(needle: str, haystack: str) -> bool:
    """indexOf counts whole 16-bit units: a byte match at an odd offset is no match."""
    data, part = utf16(haystack), utf16(needle)
    start = data.find(part)
    while start != -1 and start % 2:
        start = data.find(part, start + 1)
    return start != -1


def _substr(text: str, start: Any, length: Any) -> str:
    """String.prototype.substr on UTF-16 code units."""
    units = utf16(text)
    size = len(units) // 2
    begin = to_integer(start)
    if begin == -math.inf:
        begin = 0
    elif begin < 0:
        begin = max(size + begin, 0)
    begin = min(begin, size)
    count = size if length is UNDEFINED else to_integer(length)
    count = min(max(count, 0), size)
    end = min(begin + count, size)
    return from_utf16(units[int(begin) * 2 : int(end) * 2])


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
        return _substr(temp, 0, _plus(utf16_length(temp), end))
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
        size = len(data) if isinstance(data, list) else utf16_length(data)
        if name == "length":
            return size
        if name.isdigit() and name.isascii() and str(int(name)) == name and int(name) < size:
            index = int(name)
            return (
                data[index]
                if isinstance(data, list)
                else from_utf16(utf16(data)[index * 2 : index * 2 + 2])
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
    "cat": lambda _d, a: join(a, ""),
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
