"""Every numeric row of the instruction table, run from its `py` template, matches wasmtime.

Operands and results cross into wasmtime as bit patterns (via reinterpret), so NaN payloads are
compared exactly. Where wasmtime gives a NaN from an arithmetic operator, the spec allows any NaN
of the same class, so we check the class: canonical when every NaN operand was canonical,
otherwise arithmetic (quiet bit set). Traps must match, with the spec's message.
"""

from __future__ import annotations

import ast
import builtins
import functools
import itertools
import math
import struct

import pytest
import wasm2py_runtime.numeric as numeric
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wasm2py_runtime.numeric import f32_from_bits, f32_to_bits, f32r, f64_from_bits, f64_to_bits
from wasm2py_runtime.traps import INT_DIVIDE_BY_ZERO, INT_OVERFLOW, INVALID_CONVERSION, Trap

from wasm2py.opcodes import OPS

NUMERIC = [op for op in OPS if op.family == "numeric"]
M32, M64 = 2**32 - 1, 2**64 - 1
WIDTH = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}

# Operators whose result bits are fully determined even for NaNs (they only move the sign bit,
# or reinterpret); everything else follows the spec's NaN-propagation rules.
EXACT_NAN_OPS = {"abs", "neg", "copysign", "reinterpret_i32", "reinterpret_i64"}

TRAP_MESSAGES = {
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: INT_DIVIDE_BY_ZERO,
    wasmtime.TrapCode.INTEGER_OVERFLOW: INT_OVERFLOW,
    wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER: INVALID_CONVERSION,
}


# ---- running an operator both ways ------------------------------------------------------------

_ENGINE = wasmtime.Engine()
_STORE = wasmtime.Store(_ENGINE)
_CARRIER = {"i32": "i32", "i64": "i64", "f32": "i32", "f64": "i64"}
_FROM_BITS = {"i32": "", "i64": "", "f32": "f32.reinterpret_i32", "f64": "f64.reinterpret_i64"}
_TO_BITS = {"i32": "", "i64": "", "f32": "i32.reinterpret_f32", "f64": "i64.reinterpret_f64"}


@functools.cache
def wasm_func(name: str) -> wasmtime.Func:
    """A one-operator module taking and returning bit patterns."""
    op = next(o for o in NUMERIC if o.name == name)
    params, (result,) = op.sig
    body = [f"local.get {i} {_FROM_BITS[t]}" for i, t in enumerate(params)]
    wat = (
        f'(module (func (export "f") (param {" ".join(_CARRIER[t] for t in params)})'
        f" (result {_CARRIER[result]}) {' '.join(body)} {name} {_TO_BITS[result]}))"
    )
    module = wasmtime.Module(_ENGINE, wasmtime.wat2wasm(wat))
    return wasmtime.Instance(_STORE, module, []).exports(_STORE)["f"]


def _signed(bits: int, width: int) -> int:
    return bits - (1 << width) if bits >> (width - 1) else bits


def run_wasmtime(op, operands: tuple[int, ...]) -> tuple[str, object]:
    params, (result,) = op.sig
    args = [_signed(v, WIDTH[t]) for v, t in zip(operands, params)]
    try:
        value = wasm_func(op.name)(_STORE, *args)
    except wasmtime.Trap as trap:
        return "trap", TRAP_MESSAGES.get(trap.trap_code, trap.message)
    return "value", value & ((1 << WIDTH[result]) - 1)


NAMESPACE = {name: getattr(numeric, name) for name in numeric.__all__}


@functools.cache
def template_code(name: str):
    op = next(o for o in NUMERIC if o.name == name)
    return compile(op.data["py"], f"<{name}>", "eval")


def python_operand(bits: int, t: str) -> object:
    if t == "f32":
        return f32_from_bits(bits)
    if t == "f64":
        return f64_from_bits(bits)
    return bits


def run_template(op, operands: tuple) -> tuple[str, object]:
    """Evaluate the row's template; check the result respects the value representation."""
    params, (result,) = op.sig
    env = {"a": operands[0], "b": operands[1] if len(operands) > 1 else None}
    try:
        value = eval(template_code(op.name), NAMESPACE, env)
    except Trap as trap:
        return "trap", trap.message
    if result in ("i32", "i64"):
        assert isinstance(value, int), (op, value)
        assert 0 <= value < 1 << WIDTH[result], (op, value)
        return "value", int(value)
    assert type(value) is float, (op, value)
    if result == "f64":
        return "value", f64_to_bits(value)
    bits = f32_to_bits(value)
    # A valid f32 value: the double is exactly the one its f32 bit pattern decodes to.
    assert f64_to_bits(f32_from_bits(bits)) == f64_to_bits(value), (op, hex(f64_to_bits(value)))
    return "value", bits


# ---- NaN classes ------------------------------------------------------------------------------

_EXP = {"f32": 0x7F800000, "f64": 0x7FF0000000000000}
_QUIET = {"f32": 0x00400000, "f64": 0x0008000000000000}
_MANT = {"f32": 0x007FFFFF, "f64": 0x000FFFFFFFFFFFFF}


def is_nan(bits: int, t: str) -> bool:
    return bits & _EXP[t] == _EXP[t] and bits & _MANT[t] != 0


def is_canonical(bits: int, t: str) -> bool:
    return bits & (_EXP[t] | _MANT[t]) == _EXP[t] | _QUIET[t]


def is_arithmetic(bits: int, t: str) -> bool:
    return is_nan(bits, t) and bits & _QUIET[t] != 0


def check(op, operands: tuple[int, ...]) -> None:
    params, (result,) = op.sig
    expected = run_wasmtime(op, operands)
    actual = run_template(op, tuple(python_operand(v, t) for v, t in zip(operands, params)))
    shown = f"{op.name}({', '.join(hex(v) for v in operands)})"
    if expected[0] == "trap" or actual[0] == "trap":
        assert actual == expected, f"{shown}: wasmtime {expected}, ours {actual}"
        return
    want, got = expected[1], actual[1]
    exact = op.name.split(".")[1] in EXACT_NAN_OPS
    if result in ("f32", "f64") and not exact and is_nan(want, result):
        assert is_nan(got, result), f"{shown}: wasmtime NaN {want:#x}, ours {got:#x}"
        nan_operands = [(v, t) for v, t in zip(operands, params) if t[0] == "f" and is_nan(v, t)]
        if all(is_canonical(v, t) for v, t in nan_operands):
            assert is_canonical(want, result), f"{shown}: wasmtime gave {want:#x}"
            assert is_canonical(got, result), f"{shown}: ours {got:#x}, not canonical"
        else:
            assert is_arithmetic(got, result), f"{shown}: ours {got:#x}, not arithmetic"
        return
    assert got == want, f"{shown}: wasmtime {want:#x}, ours {got:#x}"


# ---- operands ---------------------------------------------------------------------------------


def _f32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _f64(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _signed_edges(width: int) -> list[int]:
    mask, low = (1 << width) - 1, 1 << (width - 1)
    small = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 0x7F, 0x80, 0xFF, 0x100]
    big = [0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000]
    values = small + [-v for v in small] + big + [-v for v in big]
    values += [low - 1, low, low + 1, mask, mask - 1, 1 << 24, (1 << 24) + 1]
    # Just above an f32 rounding tie, where int to f64 to f32 rounds twice and goes wrong.
    values += [(1 << 53) + (1 << 29) + 1, (1 << 62) + (1 << 38) + 1, (1 << 63) + (1 << 39) + 1]
    values += [-((1 << 53) + (1 << 29) + 1), -((1 << 62) + (1 << 38) + 1)]
    return sorted({v & mask for v in values})


I32_EDGES = _signed_edges(32)
I64_EDGES = _signed_edges(64)

F32_EDGES = sorted(
    {
        s | b
        for s in (0, 0x80000000)
        for b in [
            0x00000000,  # 0
            0x00000001,  # smallest subnormal
            0x007FFFFF,  # largest subnormal
            0x00800000,  # smallest normal
            0x3F000000,  # 0.5
            0x3F000001,
            0x3F7FFFFF,  # just under 1
            0x3F800000,  # 1
            0x3FC00000,  # 1.5
            0x40200000,  # 2.5
            0x40600000,  # 3.5
            0x4B000000,  # 2**23
            0x4B000001,
            0x4B800000,  # 2**24
            0x4EFFFFFF,  # just under 2**31
            0x4F000000,  # 2**31
            0x4F000001,
            0x4F7FFFFF,  # just under 2**32
            0x4F800000,  # 2**32
            0x5EFFFFFF,  # just under 2**63
            0x5F000000,  # 2**63
            0x5F7FFFFF,  # just under 2**64
            0x5F800000,  # 2**64
            0x7F7FFFFE,
            0x7F7FFFFF,  # FLT_MAX
            0x7F800000,  # inf
            0x7F800001,  # signalling NaNs
            0x7FA00000,
            0x7FBFFFFF,
            0x7FC00000,  # canonical NaN
            0x7FC00001,  # quiet NaNs with payloads
            0x7FEAAAAA,
            0x7FFFFFFF,
        ]
    }
)

_FLT_MAX = 3.4028234663852886e38
F64_EDGES = sorted(
    {
        s | _f64(x) if isinstance(x, float) else s | x
        for s in (0, 1 << 63)
        for x in [
            0.0,
            1,  # smallest subnormal
            0x000FFFFFFFFFFFFF,  # largest subnormal
            0x0010000000000000,  # smallest normal
            0.5,
            0.49999999999999994,
            1.0,
            1.5,
            2.5,
            3.5,
            2.0**-149,  # f32 smallest subnormal
            2.0**-150,  # half of it: rounds to zero (tie, even)
            2.0**-150 * 1.5,
            2.0**-126,
            _FLT_MAX,
            _FLT_MAX + 2.0**103,  # halfway to the next f32 binade: rounds to inf
            _FLT_MAX + 2.0**103 - 2.0**75,  # just under halfway: rounds to FLT_MAX
            _FLT_MAX * 2,
            2.0**31 - 0.5,
            2.0**31,
            2.0**31 + 1,
            2.0**32 - 0.5,
            2.0**32,
            2147483648.9999998,  # -this is just above -2**31 - 1
            2147483649.0,
            0.9999999999999999,
            2.0**52 - 0.5,
            2.0**52,
            2.0**53,
            2.0**63 - 1024,
            2.0**63,
            2.0**63 + 2048,
            2.0**64 - 2048,
            2.0**64,
            1.7976931348623157e308,
            math.inf,
            0x7FF0000000000001,  # signalling NaNs
            0x7FF4000000000000,
            0x7FF0000020000000,  # f32-shaped signalling NaN
            0x7FF8000000000000,  # canonical NaN
            0x7FF8000000000001,  # quiet NaNs with payloads
            0x7FF8000020000000,
            0x7FFFFFFFFFFFFFFF,
        ]
    }
)

EDGES = {"i32": I32_EDGES, "i64": I64_EDGES, "f32": F32_EDGES, "f64": F64_EDGES}


def _nans(width: int, mant_bits: int) -> st.SearchStrategy[int]:
    exp = ((1 << (width - mant_bits - 1)) - 1) << mant_bits
    return st.builds(
        lambda s, m: (s << (width - 1)) | exp | m,
        st.integers(0, 1),
        st.integers(1, (1 << mant_bits) - 1),
    )


def _near(edges: list[int], mask: int) -> st.SearchStrategy[int]:
    return st.builds(lambda e, d: (e + d) & mask, st.sampled_from(edges), st.integers(-4, 4))


def _round_to_f32_cases() -> st.SearchStrategy[int]:
    """Big ints near an f32 rounding tie: a double rounding (int to f64 to f32) gets them wrong.

    24 significant bits, then the round bit, then a tail that is zero, or small enough that
    float() drops it, or anything.
    """

    def build(k: int, top: int, round_bit: int, tail: int) -> int:
        shift = k - 24
        return (((top << 1) | round_bit) << (shift - 1)) | (tail & ((1 << (shift - 1)) - 1))

    tail = st.one_of(
        st.sampled_from([0, 1, 2**40 - 1]), st.integers(0, 2**10), st.integers(0, 2**40)
    )
    return st.builds(
        build, st.integers(27, 63), st.integers(2**23, 2**24 - 1), st.integers(0, 1), tail
    )


OPERANDS = {
    "i32": st.one_of(
        st.sampled_from(I32_EDGES), _near(I32_EDGES, M32), st.integers(0, M32), st.integers(0, 70)
    ),
    "i64": st.one_of(
        st.sampled_from(I64_EDGES),
        _near(I64_EDGES, M64),
        st.integers(0, M64),
        st.integers(0, 140),
        _round_to_f32_cases(),
        _round_to_f32_cases().map(lambda v: -v & M64),
    ),
    "f32": st.one_of(
        st.sampled_from(F32_EDGES),
        _near(F32_EDGES, M32),
        st.integers(0, M32),
        _nans(32, 23),
        st.floats(width=32, allow_nan=False).map(_f32),
        st.integers(-(2**24), 2**24).map(lambda n: _f32(n / 4)),
    ),
    "f64": st.one_of(
        st.sampled_from(F64_EDGES),
        _near(F64_EDGES, M64),
        st.integers(0, M64),
        _nans(64, 52),
        st.floats(allow_nan=False).map(_f64),
        st.floats(width=32, allow_nan=False).map(_f64),
        st.integers(-(2**53), 2**53).map(lambda n: _f64(n / 4)),
    ),
}


# ---- tests ------------------------------------------------------------------------------------


def test_helpers_cover_templates() -> None:
    """Every name a template calls is a runtime helper (or a builtin), and every helper is used."""
    used = set()
    for op in NUMERIC:
        for node in ast.walk(ast.parse(op.data["py"], mode="eval")):
            if isinstance(node, ast.Name) and node.id not in ("a", "b"):
                used.add(node.id)
    helpers = used - set(dir(builtins))
    assert helpers <= set(numeric.__all__), helpers - set(numeric.__all__)
    assert set(numeric.__all__) <= helpers, set(numeric.__all__) - helpers


@pytest.mark.parametrize("op", NUMERIC, ids=lambda op: op.name)
def test_edges_match_wasmtime(op) -> None:
    """Every combination of edge operands."""
    for case in itertools.product(*(EDGES[t] for t in op.sig[0])):
        check(op, case)


@pytest.mark.parametrize("op", NUMERIC, ids=lambda op: op.name)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_operands_match_wasmtime(op, data) -> None:
    check(op, tuple(data.draw(OPERANDS[t], label=t) for t in op.sig[0]))


@pytest.mark.parametrize("op", [op for op in NUMERIC if "i32" in op.sig[0]], ids=lambda op: op.name)
def test_bool_operands(op) -> None:
    """Comparisons yield bools, which may then reach any i32 operand as 0 or 1."""
    params = op.sig[0]
    for values in itertools.product((0, 1, 5), repeat=len(params)):
        ints = tuple(python_operand(v, t) for v, t in zip(values, params))
        bools = tuple(bool(v) if t == "i32" and v < 2 else v for v, t in zip(ints, params))
        assert run_template(op, bools) == run_template(op, ints)


F32_NAN_PATTERNS = [
    s | 0x7F800000 | m
    for s in (0, 0x80000000)
    for m in (1, 2, 0x1FFFFF, 0x200000, 0x3FFFFF, 0x400000, 0x400001, 0x7FFFFF)
]


@settings(max_examples=2000)
@given(st.one_of(st.integers(0, M32), st.sampled_from(F32_EDGES + F32_NAN_PATTERNS)))
def test_f32_bits_round_trip(bits: int) -> None:
    x = f32_from_bits(bits)
    assert type(x) is float
    assert f32_to_bits(x) == bits
    assert f32r(x) == x or x != x  # f32 values are fixed points of rounding


@settings(max_examples=2000)
@given(st.one_of(st.integers(0, M64), st.sampled_from(F64_EDGES)))
def test_f64_bits_round_trip(bits: int) -> None:
    assert f64_to_bits(f64_from_bits(bits)) == bits


def test_f32_bits_strided() -> None:
    """A stride through all 2**32 patterns (low bits vary), checked against struct's decoding."""
    unpack_f = struct.Struct("<f").unpack
    pack_i = struct.Struct("<I").pack
    for bits in range(0, 2**32, 65537):
        x = f32_from_bits(bits)
        assert f32_to_bits(x) == bits, hex(bits)
        if is_nan(bits, "f32"):
            assert f64_to_bits(x) == ((bits >> 31) << 63) | (0x7FF << 52) | (
                (bits & 0x7FFFFF) << 29
            )
            assert f32_to_bits(f32r(x)) == bits | 0x400000, hex(bits)  # rounding quiets it
        else:
            assert x == unpack_f(pack_i(bits))[0] and f32r(x) == x, hex(bits)
            assert math.copysign(1.0, x) == (-1.0 if bits >> 31 else 1.0)


@pytest.mark.parametrize(
    "double", [0x7FF0000000000001, 0xFFF0000000000001, 0x7FF8000000000001, 0x7FF000001FFFFFFF]
)
def test_f32_to_bits_of_non_f32_nan_is_still_nan(double: int) -> None:
    bits = f32_to_bits(f64_from_bits(double))
    assert is_nan(bits, "f32") and bits >> 31 == double >> 63
