"""The forms lowering gives numeric operators, run as translated functions against wasmtime.

add and sub reduce with `% 2**width` unless an operand lost an `& mask` (a product, a shift,
a wrapped i64): then `&`. Operands feeding a wrapping operator lose either reduction. Float
helpers with a cheap exact guard run inline (`a / b if b else fdiv(a, b)`, `sqrt`, min/max,
nearest, truncation). test_numeric_props checks each template alone; here operators nest, take
constants and spilled operands, and the source shows which form was chosen.
"""

from __future__ import annotations

import functools

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wasm2py_runtime.traps import Trap

import wasm2py
from tests import fuzz
from tests.test_numeric_props import F32_EDGES, F64_EDGES, I32_EDGES, I64_EDGES, TRAP_MESSAGES
from tests.util import load_module

WIDTH = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}
CARRIER = {"i32": "i32", "i64": "i64", "f32": "i32", "f64": "i64"}
EDGES = {"i32": I32_EDGES, "i64": I64_EDGES, "f32": F32_EDGES, "f64": F64_EDGES}

# (parameter types, result type, body over `(local.get N)` with floats already reinterpreted)
CASES = {
    # integer wrapping forms
    "add3": ("i32 i32 i32", "i32", "(i32.add (i32.add (local.get 0) (local.get 1)) (local.get 2))"),
    "sub_of_add": (
        "i32 i32 i32",
        "i32",
        "(i32.sub (local.get 2) (i32.add (local.get 0) (local.get 1)))",
    ),
    "mul_of_add": (
        "i32 i32 i32",
        "i32",
        "(i32.mul (i32.add (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "add_of_mul": (
        "i32 i32 i32",
        "i32",
        "(i32.add (i32.mul (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "add_add_mul": (
        "i32 i32 i32",
        "i32",
        "(i32.add (i32.add (i32.mul (local.get 0) (local.get 1)) (local.get 2)) (local.get 0))",
    ),
    "sub_of_shl": (
        "i32 i32 i32",
        "i32",
        "(i32.sub (i32.shl (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "shl_of_sub": (
        "i32 i32 i32",
        "i32",
        "(i32.shl (i32.sub (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "add_wrapped": ("i64 i32", "i32", "(i32.add (i32.wrap_i64 (local.get 0)) (local.get 1))"),
    "add_neg_const": ("i32", "i32", "(i32.add (local.get 0) (i32.const -5))"),
    # signed division and remainder by constants, inline on magnitudes
    **{
        f"{t}_{op}_by_{name}": (t, t, f"({t}.{op} (local.get 0) ({t}.const {value}))")
        for t in ("i32", "i64")
        for op in ("div_s", "rem_s")
        for name, value in (
            ("2", 2),
            ("7", 7),
            ("1", 1),
            ("minus3", -3),
            ("minus2", -2),
            ("min", -(2 ** (31 if t == "i32" else 63))),
            ("max", 2 ** (31 if t == "i32" else 63) - 1),
        )
    },
    "sub_neg_const": ("i32", "i32", "(i32.sub (local.get 0) (i32.const -5))"),
    "sub_from_const": ("i32", "i32", "(i32.sub (i32.const 3) (local.get 0))"),
    "lt_s_of_add": (
        "i32 i32",
        "i32",
        "(i32.lt_s (i32.add (local.get 0) (local.get 1)) (i32.const 5))",
    ),
    "add_extend": ("i32 i32", "i32", "(i32.add (i32.extend8_s (local.get 0)) (local.get 1))"),
    "i64_add3": (
        "i64 i64 i64",
        "i64",
        "(i64.add (i64.add (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "i64_add_of_mul": (
        "i64 i64 i64",
        "i64",
        "(i64.add (i64.mul (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "i64_mul_of_sub": (
        "i64 i64 i64",
        "i64",
        "(i64.mul (i64.sub (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "i64_sub_neg_const": ("i64", "i64", "(i64.sub (local.get 0) (i64.const -3))"),
    "i64_shl_of_add": (
        "i64 i64 i64",
        "i64",
        "(i64.shl (i64.add (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "and_of_sum": (
        "i32 i32",
        "i32",
        "(i32.and (i32.add (local.get 0) (local.get 1)) (i32.const 0xff00))",
    ),
    "i64_and_of_sum": (
        "i64 i64",
        "i64",
        "(i64.and (i64.const 0x7fff) (i64.sub (local.get 0) (local.get 1)))",
    ),
    # rotates by a constant, on a spilled operand
    "rotl_const": (
        "i32 i32",
        "i32",
        "(i32.rotl (i32.xor (local.get 0) (local.get 1)) (i32.const 13))",
    ),
    "rotr_const": ("i32", "i32", "(i32.rotr (local.get 0) (i32.const 45))"),
    "i64_rotl_const": (
        "i64",
        "i64",
        "(i64.rotl (i64.mul (local.get 0) (local.get 0)) (i64.const 31))",
    ),
    "i64_rotr_const": (
        "i64 i64",
        "i64",
        "(i64.rotr (i64.add (local.get 0) (local.get 1)) (i64.const -1))",
    ),
    "wrap_of_add": ("i64 i64", "i32", "(i32.wrap_i64 (i64.add (local.get 0) (local.get 1)))"),
    # float helpers inline
    "div_spilled": (
        "f64 f64 f64",
        "f64",
        "(f64.div (f64.mul (local.get 0) (local.get 1)) (f64.add (local.get 1) (local.get 2)))",
    ),
    "div_names": ("f64 f64", "f64", "(f64.div (local.get 0) (local.get 1))"),
    "div_by_zero": ("f64", "f64", "(f64.div (local.get 0) (f64.const 0))"),
    "div_by_neg_zero": ("f64", "f64", "(f64.div (local.get 0) (f64.const -0))"),
    "div_by_two": ("f64", "f64", "(f64.div (local.get 0) (f64.const 2))"),
    "div_into_one": ("f64", "f64", "(f64.div (f64.const 1) (local.get 0))"),
    "f32_div": (
        "f32 f32 f32",
        "f32",
        "(f32.div (f32.add (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "f32_div_names": ("f32 f32", "f32", "(f32.div (local.get 0) (local.get 1))"),
    "sqrt_spilled": ("f64 f64", "f64", "(f64.sqrt (f64.sub (local.get 0) (local.get 1)))"),
    "f32_sqrt": ("f32", "f32", "(f32.sqrt (local.get 0))"),
    "f32_sqrt_mul": ("f32 f32", "f32", "(f32.sqrt (f32.mul (local.get 0) (local.get 1)))"),
    "min_spilled": (
        "f64 f64 f64",
        "f64",
        "(f64.min (f64.add (local.get 0) (local.get 1)) (local.get 2))",
    ),
    "max_names": ("f64 f64", "f64", "(f64.max (local.get 0) (local.get 1))"),
    "f32_min": ("f32 f32", "f32", "(f32.min (local.get 0) (local.get 1))"),
    "f32_max_neg_zero": ("f32", "f32", "(f32.max (local.get 0) (f32.const -0))"),
    "min_neg_zero": ("f64", "f64", "(f64.min (f64.const 0) (local.get 0))"),
    "nearest": ("f64", "f64", "(f64.nearest (local.get 0))"),
    "nearest_sum": ("f64 f64", "f64", "(f64.nearest (f64.add (local.get 0) (local.get 1)))"),
    "f32_nearest": ("f32", "f32", "(f32.nearest (local.get 0))"),
    "trunc_s": ("f64 f64", "i32", "(i32.trunc_f64_s (f64.add (local.get 0) (local.get 1)))"),
    "trunc_u": ("f32", "i32", "(i32.trunc_f32_u (local.get 0))"),
    "i64_trunc_s": ("f64", "i64", "(i64.trunc_f64_s (local.get 0))"),
    "i64_trunc_u": ("f32", "i64", "(i64.trunc_f32_u (local.get 0))"),
    "trunc_sat_s": ("f32", "i32", "(i32.trunc_sat_f32_s (local.get 0))"),
    "trunc_sat_u": ("f64", "i32", "(i32.trunc_sat_f64_u (local.get 0))"),
    "i64_trunc_sat_s": ("f64", "i64", "(i64.trunc_sat_f64_s (local.get 0))"),
    "i64_trunc_sat_u": (
        "f32 f32",
        "i64",
        "(i64.trunc_sat_f32_u (f32.mul (local.get 0) (local.get 1)))",
    ),
}


def _module_wat() -> str:
    funcs = []
    for name, (params, result, body) in CASES.items():
        types = params.split()
        decoded = []
        for i, t in enumerate(types):
            get = f"(local.get {i})"
            if t[0] == "f":
                get = f"({t}.reinterpret_{CARRIER[t]} {get})"
            decoded.append(get)
        # Float parameters arrive as bits: read them through locals of the float type.
        locals_ = " ".join(types)
        sets = " ".join(f"(local.set {len(types) + i} {g})" for i, g in enumerate(decoded))
        shifted = body
        for i in reversed(range(len(types))):
            shifted = shifted.replace(f"(local.get {i})", f"(local.get {len(types) + i})")
        if result[0] == "f":
            shifted = f"({CARRIER[result]}.reinterpret_{result} {shifted})"
        funcs.append(
            f'(func (export "{name}") (param {" ".join(CARRIER[t] for t in types)})'
            f" (result {CARRIER[result]}) (local {locals_}) {sets} {shifted})"
        )
    return "(module " + "\n".join(funcs) + ")"


@functools.cache
def engines():
    wasm = wasmtime.wat2wasm(_module_wat())
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), []).exports(store)
    ours = load_module(wasm, "forms").instantiate().exports
    return store, reference, ours


def _outcome(call):
    try:
        return "value", call()
    except Trap as trap:
        return "trap", trap.message
    except wasmtime.Trap as trap:
        return "trap", TRAP_MESSAGES.get(trap.trap_code, trap.message)


def check(name: str, operands: tuple[int, ...]) -> None:
    params, result, _ = CASES[name]
    store, reference, ours = engines()
    signed = [
        v - (1 << WIDTH[t]) if v >> (WIDTH[t] - 1) else v for v, t in zip(operands, params.split())
    ]
    want = _outcome(lambda: reference[name](store, *signed))
    got = _outcome(lambda: getattr(ours, name)(*operands))
    shown = f"{name}({', '.join(hex(v) for v in operands)})"
    if want[0] == "trap" or got[0] == "trap":
        assert got == want, f"{shown}: wasmtime {want}, ours {got}"
        return
    mask = (1 << WIDTH[result]) - 1
    assert fuzz.same_value((result, want[1] & mask), (result, got[1] & mask)), (
        f"{shown}: wasmtime {want[1] & mask:#x}, ours {got[1] & mask:#x}"
    )


def _operand(t: str):
    return st.one_of(st.sampled_from(EDGES[t]), st.integers(0, (1 << WIDTH[t]) - 1))


@pytest.mark.parametrize("name", list(CASES))
def test_edges(name):
    params = CASES[name][0].split()
    if len(params) == 1:
        for v in EDGES[params[0]]:
            check(name, (v,))
        return
    # Every pair of edges for the first two operands; the third cycles through its edges.
    third = EDGES[params[-1]]
    for i, a in enumerate(EDGES[params[0]]):
        for j, b in enumerate(EDGES[params[1]]):
            check(name, (a, b, third[(i * 7 + j) % len(third)])[: len(params)])


@st.composite
def case(draw):
    name = draw(st.sampled_from(list(CASES)))
    return name, tuple(draw(_operand(t)) for t in CASES[name][0].split())


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case())
def test_random_operands(named):
    check(*named)


# ---- the forms chosen ---------------------------------------------------------------------------


def source(name: str) -> str:
    params, result, body = CASES[name]
    wat = f'(module (func (export "f") (param {params}) (result {result}) {body}))'
    src = wasm2py.translate(wasmtime.wat2wasm(wat))
    start = src.index("    def f0(")
    return src[start : src.index("\n    F0 =", start)]


def test_sums_reduce_with_mod_and_feed_products_unreduced():
    assert "(l0 + l1 + l2) % 4294967296" in source("add3")
    assert "(l0 + l1) * l2 & 4294967295" in source("mul_of_add")
    assert "(l0 + l1 + l2) % 18446744073709551616" in source("i64_add3")
    # i64 products keep their operands reduced (see _WRAPPING).
    assert "(l0 - l1) % 18446744073709551616 * l2 & 184467" in source("i64_mul_of_sub")


def test_sums_of_products_shifts_and_wrapped_i64_keep_the_mask():
    assert "l0 * l1 + l2 & 4294967295" in source("add_of_mul")
    assert "l0 * l1 + l2 + l0 & 4294967295" in source("add_add_mul")
    assert "(l0 << (l1 & 31)) - l2 & 4294967295" in source("sub_of_shl")
    assert "l0 + l1 & 4294967295" in source("add_wrapped")
    assert "l0 * l1 + l2 & 18446744073709551615" in source("i64_add_of_mul")
    assert "%" not in source("add_of_mul")


def test_large_constants_become_small_ones_in_the_mod_form():
    assert "(l0 - 5) % 4294967296" in source("add_neg_const")
    assert "(l0 + 5) % 4294967296" in source("sub_neg_const")
    assert "(l0 + 3) % 18446744073709551616" in source("i64_sub_neg_const")


def test_float_helpers_run_inline_behind_their_guard():
    assert "l0 / l1 if l1 else fdiv(l0, l1)" in source("div_names")
    assert "return l0 / 2.0\n" in source("div_by_two") + "\n"
    assert "fdiv(l0, 0.0)" in source("div_by_zero") and " if " not in source("div_by_zero")
    assert "sqrt(l0) if l0 >= 0.0 else fsqrt(l0)" in source("f32_sqrt")
    assert "l0 if l0 < l1 else l1 if l1 < l0 else fmin(l0, l1)" in source("f32_min")
    assert "else i32_trunc_u(l0)" in source("trunc_u")


def test_signed_division_by_a_constant_runs_inline():
    assert "l0 // 7 if l0 < 2147483648 else -((4294967296 - l0) // 7) & 4294967295" in source(
        "i32_div_s_by_7"
    )
    assert "i64_rem_s" not in source("i64_rem_s_by_minus3")


def test_rotates_by_a_constant_run_as_shifts():
    assert "i32_rotl" not in source("rotl_const") and ">> 19" in source("rotl_const")
    assert "i32_rotr" not in source("rotr_const") and "<< 19" in source("rotr_const")
    assert "i64_rotr" not in source("i64_rotr_const") and "<< 1 " in source("i64_rotr_const")


def test_a_constant_mask_reduces_its_operand_itself():
    assert "l0 + l1 & 65280" in source("and_of_sum")
    assert "32767 & l0 - l1" in source("i64_and_of_sum")
