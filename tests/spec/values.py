"""Script values: JSON arguments to Python values, and bit-exact checks of results against expectations.

A JSON value is `{"type": "i32", "value": "-1"}`; integers may be written signed (wasm-tools) or
unsigned (wabt), floats as the decimal of their bit pattern or as "nan:canonical" / "nan:arithmetic".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import wasm2py_runtime as rt

Value = dict[str, Any]

WIDTHS = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}

# Float layouts: (sign-less mask, quiet bit, exponent mask).
_FLOAT_LAYOUT = {
    "f32": (0x7FFF_FFFF, 0x0040_0000, 0x7F80_0000),
    "f64": (0x7FFF_FFFF_FFFF_FFFF, 0x0008_0000_0000_0000, 0x7FF0_0000_0000_0000),
}

CANONICAL_NAN = "nan:canonical"
ARITHMETIC_NAN = "nan:arithmetic"


class UnsupportedValue(Exception):
    """A value type this runner does not handle (v128, a non-null funcref argument, ...)."""


@dataclass(frozen=True)
class HostRef:
    """The host object that a script's `ref.extern N` stands for."""

    n: int


def to_signed(value: int, width: int) -> int:
    """`value` (signed or unsigned, any size) reduced to `width` bits, read as two's complement."""
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def is_canonical_nan(bits: int, valtype: str) -> bool:
    """A NaN whose payload is exactly the quiet bit, of either sign."""
    magnitude, quiet, exponent = _FLOAT_LAYOUT[valtype]
    return bits & magnitude == exponent | quiet


def is_arithmetic_nan(bits: int, valtype: str) -> bool:
    """A NaN with the quiet bit set (any payload, either sign)."""
    _, quiet, exponent = _FLOAT_LAYOUT[valtype]
    return bits & (exponent | quiet) == exponent | quiet


def is_f32_value(value: float) -> bool:
    """Whether a double holds an exact single-precision value (every NaN counts as one)."""
    if math.isnan(value):
        return True
    try:
        bits = rt.f32_to_bits(value)
    except OverflowError:  # beyond the f32 range
        return False
    return rt.f64_to_bits(rt.f32_from_bits(bits)) == rt.f64_to_bits(value)


def float_to_bits(value: float, valtype: str) -> int:
    return rt.f32_to_bits(value) if valtype == "f32" else rt.f64_to_bits(value)


def float_from_bits(bits: int, valtype: str) -> float:
    mask = (1 << WIDTHS[valtype]) - 1
    return rt.f32_from_bits(bits & mask) if valtype == "f32" else rt.f64_from_bits(bits & mask)


def parse_arg(arg: Value) -> object:
    """The Python value to pass for a JSON argument."""
    valtype, text = arg["type"], arg.get("value")
    if valtype in ("i32", "i64"):
        return int(text)
    if valtype in ("f32", "f64"):
        return float_from_bits(int(text), valtype)
    if valtype in ("externref", "funcref") and text == "null":
        return None
    if valtype == "externref":
        return HostRef(int(text))
    raise UnsupportedValue(f"argument of type {valtype} ({text!r})")


def check_results(expected: list[Value], actual: object) -> str | None:
    """None if `actual` (None, one value, or a tuple) matches `expected`; else what is wrong."""
    if not expected:
        return None if actual is None else f"expected no result (None), got {actual!r}"
    if len(expected) == 1:
        problem = check_value(expected[0], actual)
        return None if problem is None else f"expected {describe(expected[0])}, {problem}"
    if not isinstance(actual, tuple) or len(actual) != len(expected):
        return f"expected a tuple of {len(expected)} results ({describe_all(expected)}), got {actual!r}"
    for index, (want, got) in enumerate(zip(expected, actual)):
        problem = check_value(want, got)
        if problem is not None:
            return f"result {index}: expected {describe(want)}, {problem}"
    return None


def check_value(expected: Value, actual: object) -> str | None:
    """None if one result matches; else "got ..." describing the actual value."""
    valtype, text = expected["type"], expected.get("value")
    if valtype in ("i32", "i64"):
        if type(actual) is not int:
            return f"got {type(actual).__name__} {actual!r}"
        if actual != to_signed(int(text), WIDTHS[valtype]):
            return f"got {actual} ({actual:#x})"  # unreduced: results must come back signed
        return None
    if valtype in ("f32", "f64"):
        return _check_float(valtype, text, actual)
    if valtype in ("externref", "funcref"):
        if text == "null":
            return None if actual is None else f"got {actual!r}"
        if actual is None:
            return "got None"
        if valtype == "externref" and text is not None and actual != HostRef(int(text)):
            return f"got {actual!r}"
        return None  # any non-null funcref (ref.func) matches
    raise UnsupportedValue(f"result of type {valtype} ({text!r})")


def _check_float(valtype: str, text: str, actual: object) -> str | None:
    if type(actual) is not float:
        return f"got {type(actual).__name__} {actual!r}"
    if valtype == "f32" and not is_f32_value(actual):
        return f"got {actual!r}, which is not an f32 value (a missing rounding?)"
    bits = float_to_bits(actual, valtype)
    if text == CANONICAL_NAN:
        matches = is_canonical_nan(bits, valtype)
    elif text == ARITHMETIC_NAN:
        matches = is_arithmetic_nan(bits, valtype)
    else:
        matches = bits == int(text) & ((1 << WIDTHS[valtype]) - 1)
    return None if matches else f"got {describe_float(bits, valtype)}"


def describe(value: Value) -> str:
    """A JSON value for a message: `i32 -1 (0xffffffff)`, `f32 0x3f800000 (1.0)`, `f64 nan:canonical`."""
    valtype, text = value["type"], value.get("value")
    if valtype in ("i32", "i64"):
        return describe_int(int(text), valtype)
    if valtype in ("f32", "f64") and text not in (CANONICAL_NAN, ARITHMETIC_NAN):
        try:
            return describe_float(int(text) & ((1 << WIDTHS[valtype]) - 1), valtype)
        except Exception:  # the runtime's float helpers are missing: still say something useful
            return f"{valtype} {int(text):#x}"
    if valtype == "externref" and text not in (None, "null"):
        return f"externref {HostRef(int(text))!r}"
    return f"{valtype} {text}" if text is not None else valtype


def describe_all(values: list[Value]) -> str:
    return ", ".join(describe(v) for v in values)


def describe_int(value: int, valtype: str) -> str:
    width = WIDTHS[valtype]
    return f"{valtype} {to_signed(value, width)} ({value & ((1 << width) - 1):#x})"


def describe_float(bits: int, valtype: str) -> str:
    digits = WIDTHS[valtype] // 4
    return f"{valtype} 0x{bits:0{digits}x} ({float_from_bits(bits, valtype)!r})"
