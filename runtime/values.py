"""Conversions between the caller's values and the representation generated code uses.

Inside translated code an i32 is an int in [0, 2**32), an i64 an int in [0, 2**64), an f32 a
float holding a single-precision value (NaNs keep their f32 payload in the top mantissa bits),
an f64 a float, a reference any Python object or None. Callers see signed ints.
"""

from __future__ import annotations

from .numeric import f32r

_MASKS = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF}
_SIGN_BITS = {"i32": 0x80000000, "i64": 0x8000000000000000}


def to_wasm(valtype: str, value):
    """A caller's value (signed or unsigned int, float, reference) as generated code holds it."""
    if valtype in _MASKS:
        if isinstance(value, float) or not isinstance(value, int):
            raise TypeError(f"expected an int for {valtype}, got {type(value).__name__}")
        return value & _MASKS[valtype]
    if valtype == "f32":
        value = float(value)
        return value if value != value else f32r(value)
    if valtype == "f64":
        return float(value)
    return value


def from_wasm(valtype: str, value):
    """A value of generated code as the caller sees it: ints signed, bools as ints."""
    sign = _SIGN_BITS.get(valtype)
    if sign is not None:
        return int(value) - ((value & sign) << 1)
    return value
