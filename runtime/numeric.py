"""Numeric helpers that generated code calls: float bits, rounding, integer division, truncation.

Values: i32/i64 are unsigned ints (bools allowed as i32), f64 a float, f32 a float exactly
representable in single precision. An f32 NaN with sign s and mantissa m is the double
(s << 63) | (0x7FF << 52) | (m << 29), so signalling f32 NaNs and their payloads survive.
"""

from __future__ import annotations

import math
import struct

from .traps import INT_DIVIDE_BY_ZERO, INT_OVERFLOW, INVALID_CONVERSION, Trap

__all__ = [
    "copysign",
    "f32_convert_i64_s",
    "f32_convert_i64_u",
    "f32_from_bits",
    "f32_to_bits",
    "f32r",
    "f64_from_bits",
    "f64_to_bits",
    "fabs",
    "fceil",
    "fdiv",
    "ffloor",
    "fmax",
    "fmin",
    "fnearest",
    "fsqrt",
    "ftrunc",
    "i32_ctz",
    "i32_div_s",
    "i32_div_u",
    "i32_rem_s",
    "i32_rem_u",
    "i32_rotl",
    "i32_rotr",
    "i32_trunc_s",
    "i32_trunc_sat_s",
    "i32_trunc_sat_u",
    "i32_trunc_u",
    "i64_ctz",
    "i64_div_s",
    "i64_div_u",
    "i64_rem_s",
    "i64_rem_u",
    "i64_rotl",
    "i64_rotr",
    "i64_trunc_s",
    "i64_trunc_sat_s",
    "i64_trunc_sat_u",
    "i64_trunc_u",
    "sqrt",
]

_pack_f = struct.Struct("<f").pack
_unpack_f = struct.Struct("<f").unpack
_pack_d = struct.Struct("<d").pack
_unpack_d = struct.Struct("<d").unpack
_pack_I = struct.Struct("<I").pack
_unpack_I = struct.Struct("<I").unpack
_pack_Q = struct.Struct("<Q").pack
_unpack_Q = struct.Struct("<Q").unpack

_ceil = math.ceil
_floor = math.floor
_sqrt = math.sqrt
# Generated code calls math's sqrt directly for operands `>= 0.0`, fsqrt for the rest.
sqrt = math.sqrt
_ldexp = math.ldexp

# math's versions only move or clear the sign bit, so NaN payloads (even signalling) survive.
fabs = math.fabs
copysign = math.copysign

_INF = math.inf
_NINF = -math.inf
# A canonical NaN, negative as x86 hardware (and so wasmtime) makes it; as a double it also
# encodes the canonical f32 NaN (0xFFC00000).
_NAN = _unpack_d(_pack_Q(0xFFF8000000000000))[0]
_TWO52 = 4503599627370496.0  # doubles at least this large are integers

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


# ---- bit patterns -----------------------------------------------------------------------------


def f64_to_bits(x: float) -> int:
    return _unpack_Q(_pack_d(x))[0]


def f64_from_bits(n: int) -> float:
    return _unpack_d(_pack_Q(n))[0]


def f32_to_bits(x: float) -> int:
    if x == x:
        return _unpack_I(_pack_f(x))[0]
    b = _unpack_Q(_pack_d(x))[0]
    m = (b >> 29) & 0x7FFFFF
    # A double NaN whose top 23 mantissa bits are zero has no f32 twin; make it a quiet NaN.
    return ((b >> 32) & 0x80000000) | 0x7F800000 | (m or 0x400000)


def f32_from_bits(n: int) -> float:
    x = _unpack_f(_pack_I(n))[0]
    if x == x:
        return x
    # NaN: build the double directly (a C float-to-double conversion would quiet it).
    return _unpack_d(
        _pack_Q(((n & 0x80000000) << 32) | 0x7FF0000000000000 | ((n & 0x7FFFFF) << 29))
    )[0]


def _f32_quiet(x: float) -> float:
    """The f32 NaN a hardware demotion gives: top 22 payload bits kept, quiet bit set."""
    b = _unpack_Q(_pack_d(x))[0]
    return _unpack_d(_pack_Q((b & 0xFFFFFFFFE0000000) | 0x0008000000000000))[0]


def f32r(x: float) -> float:
    """Round a double to single precision (nearest-even); a NaN becomes an arithmetic f32 NaN."""
    try:
        r = _unpack_f(_pack_f(x))[0]
    except OverflowError:  # rounds past FLT_MAX
        return _INF if x > 0.0 else _NINF
    if r == r:
        return r
    return _f32_quiet(x)


# ---- float operators (f32 and f64 alike) ------------------------------------------------------
# Rounding to an integer keeps the operand's sign on a zero result: ceil(-0.5) is -0.0.
# A NaN operand is quieted with `x + x`: PyPy's JIT folds `x * 1.0` to `x`, keeping a sNaN.


def fceil(x: float) -> float:
    if -_TWO52 < x < _TWO52:
        r = float(_ceil(x))
        return r if r else copysign(0.0, x)
    return x if x == x else x + x  # already integral or infinite; or a NaN, quieted


def ffloor(x: float) -> float:
    if -_TWO52 < x < _TWO52:
        r = float(_floor(x))
        return r if r else copysign(0.0, x)
    return x if x == x else x + x


def ftrunc(x: float) -> float:
    if -_TWO52 < x < _TWO52:
        r = float(int(x))
        return r if r else copysign(0.0, x)
    return x if x == x else x + x


def fnearest(x: float) -> float:
    # Adding 2**52 leaves no fraction bits, so the hardware rounds half to even for us.
    if 0.0 < x < _TWO52:
        return (x + _TWO52) - _TWO52
    if -_TWO52 < x < 0.0:
        return -((_TWO52 - x) - _TWO52)  # negating last keeps -0.0 for -0.5
    return x if x == x else x + x  # a zero, already integral, infinite; or a NaN, quieted


def fsqrt(x: float) -> float:
    if x >= 0.0:
        return _sqrt(x)  # sqrt(-0.0) is -0.0
    if x == x:  # negative; not `x < 0.0`: PyPy's JIT takes that as `not x >= 0.0`, even for NaN
        return _NAN
    return x + x


def fdiv(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a:
            return a + a
        if a == 0.0:
            return _NAN
        return _INF if (copysign(1.0, a) > 0.0) == (copysign(1.0, b) > 0.0) else _NINF


def fmin(a: float, b: float) -> float:
    if a < b:
        return a
    if b < a:
        return b
    if a == b:
        return a if a else -(-a - b)  # of two zeros, -0.0 if either is
    return a + b  # a NaN operand: a quiet NaN, canonical if every NaN operand was


def fmax(a: float, b: float) -> float:
    if a > b:
        return a
    if b > a:
        return b
    if a == b:
        return a if a else a + b  # of two zeros, +0.0 if either is
    return a + b


# ---- integer operators ------------------------------------------------------------------------


def i32_ctz(a: int) -> int:
    return (a & -a).bit_length() - 1 if a else 32


def i64_ctz(a: int) -> int:
    return (a & -a).bit_length() - 1 if a else 64


def i32_rotl(a: int, b: int) -> int:
    b &= 31
    return ((a << b) | (a >> (32 - b))) & M32


def i32_rotr(a: int, b: int) -> int:
    b &= 31
    return ((a >> b) | (a << (32 - b))) & M32


def i64_rotl(a: int, b: int) -> int:
    b &= 63
    return ((a << b) | (a >> (64 - b))) & M64


def i64_rotr(a: int, b: int) -> int:
    b &= 63
    return ((a >> b) | (a << (64 - b))) & M64


def i32_div_u(a: int, b: int) -> int:
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    return a // b


def i32_rem_u(a: int, b: int) -> int:
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    return a % b


def i64_div_u(a: int, b: int) -> int:
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    return a // b


def i64_rem_u(a: int, b: int) -> int:
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    return a % b


def i32_div_s(a: int, b: int) -> int:
    if a < 0x80000000 and 0 < b < 0x80000000:
        return a // b
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    a = (a ^ 0x80000000) - 0x80000000
    b = (b ^ 0x80000000) - 0x80000000
    q = abs(a) // abs(b)  # truncate toward zero
    if (a < 0) != (b < 0):
        return -q & M32
    if q == 0x80000000:
        raise Trap(INT_OVERFLOW)
    return q


def i32_rem_s(a: int, b: int) -> int:
    if a < 0x80000000 and 0 < b < 0x80000000:
        return a % b
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    a = (a ^ 0x80000000) - 0x80000000
    r = abs(a) % abs((b ^ 0x80000000) - 0x80000000)  # the sign follows the dividend
    return -r & M32 if a < 0 else r


def i64_div_s(a: int, b: int) -> int:
    if a < 0x8000000000000000 and 0 < b < 0x8000000000000000:
        return a // b
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    a = (a ^ 0x8000000000000000) - 0x8000000000000000
    b = (b ^ 0x8000000000000000) - 0x8000000000000000
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        return -q & M64
    if q == 0x8000000000000000:
        raise Trap(INT_OVERFLOW)
    return q


def i64_rem_s(a: int, b: int) -> int:
    if a < 0x8000000000000000 and 0 < b < 0x8000000000000000:
        return a % b
    if not b:
        raise Trap(INT_DIVIDE_BY_ZERO)
    a = (a ^ 0x8000000000000000) - 0x8000000000000000
    r = abs(a) % abs((b ^ 0x8000000000000000) - 0x8000000000000000)
    return -r & M64 if a < 0 else r


# ---- float to integer -------------------------------------------------------------------------
# Bounds are the nearest doubles outside the range whose truncation still fits; f32 operands
# are exact doubles, so one set of bounds serves both widths.


def _bad_trunc(x: float) -> Trap:
    return Trap(INVALID_CONVERSION if x != x else INT_OVERFLOW)


def i32_trunc_s(x: float) -> int:
    if -2147483649.0 < x < 2147483648.0:
        return int(x) & M32
    raise _bad_trunc(x)


def i32_trunc_u(x: float) -> int:
    if -1.0 < x < 4294967296.0:
        return int(x)
    raise _bad_trunc(x)


def i64_trunc_s(x: float) -> int:
    if -9223372036854777856.0 < x < 9223372036854775808.0:
        return int(x) & M64
    raise _bad_trunc(x)


def i64_trunc_u(x: float) -> int:
    if -1.0 < x < 18446744073709551616.0:
        return int(x)
    raise _bad_trunc(x)


def i32_trunc_sat_s(x: float) -> int:
    if -2147483649.0 < x < 2147483648.0:
        return int(x) & M32
    if x != x:
        return 0
    return 0x7FFFFFFF if x > 0.0 else 0x80000000


def i32_trunc_sat_u(x: float) -> int:
    if -1.0 < x < 4294967296.0:
        return int(x)
    return M32 if x > 0.0 else 0  # NaN compares false


def i64_trunc_sat_s(x: float) -> int:
    if -9223372036854777856.0 < x < 9223372036854775808.0:
        return int(x) & M64
    if x != x:
        return 0
    return 0x7FFFFFFFFFFFFFFF if x > 0.0 else 0x8000000000000000


def i64_trunc_sat_u(x: float) -> int:
    if -1.0 < x < 18446744073709551616.0:
        return int(x)
    return M64 if x > 0.0 else 0


# ---- integer to f32 ---------------------------------------------------------------------------


def f32_convert_i64_u(a: int) -> float:
    if a <= 0x20000000000000:  # 2**53: float(a) is exact, so f32r rounds once
        return f32r(float(a))
    # Keep 26 significant bits and fold the rest into a sticky low bit ("round to odd"), so
    # the double is exact and rounding it to 24 bits gives the correctly rounded result.
    shift = a.bit_length() - 26
    m = a >> shift
    if a & ((1 << shift) - 1):
        m |= 1
    return f32r(_ldexp(float(m), shift))


def f32_convert_i64_s(a: int) -> float:
    if a < 0x8000000000000000:
        return f32_convert_i64_u(a)
    return -f32_convert_i64_u(0x10000000000000000 - a)  # nearest-even rounding is symmetric
