"""JavaScript's value rules (ECMAScript ToNumber, ToString, ==, ===, <, parseFloat, truthiness).

json-logic-js leans on them for every operation; casework/jsonlogic.py uses these to give the
same answers on the server. Strings are measured and compared in UTF-16 code units, as
JavaScript does.
"""

from __future__ import annotations

import math
import re
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
    return js_bool(value)


def js_bool(value: Any) -> bool:
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


def join(items: list[Any], separator: str) -> str:
    """Array.prototype.join: null and undefined become empty text."""
    return separator.join(
        "" if item is None or item is UNDEFINED else to_string(item) for item in items
    )


def to_primitive(value: Any) -> Any:
    """An array is its joined text, any other object "[object Object]"."""
    if isinstance(value, list):
        return join(value, ",")
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


def to_integer(value: Any) -> float:
    """ToIntegerOrInfinity."""
    number = to_number(value)
    if math.isnan(number):
        return 0.0
    return number if math.isinf(number) else float(math.trunc(number))


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def from_utf16(data: bytes) -> str:
    return data.decode("utf-16-le", "surrogatepass")


def utf16_length(text: str) -> int:
    return len(utf16(text)) // 2


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
