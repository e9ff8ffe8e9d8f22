"""The shape of generated code: what each lowering rule promises to emit.

Each case translates a tiny function and checks the Python it became, so a change that makes
code slower or more convoluted shows up here, not only in a benchmark.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st
from wasm2py_runtime import Trap

import wasm2py
from tests.util import load_module


def function_source(
    body: str, params: str = "(param i32 i32)", result: str = "(result i32)"
) -> str:
    wat = f'(module (memory 1) (func (export "f") {params} {result} {body}))'
    source = wasm2py.translate(wasmtime.wat2wasm(wat))
    start = source.index("    def f0(")
    return source[start : source.index("\n    F0 =", start)] + "\n"


def test_add_is_one_reduced_expression():
    src = function_source("(i32.add (local.get 0) (local.get 1))")
    assert "return (l0 + l1) % 4294967296" in src


def test_identity_constants_disappear():
    src = function_source(
        "(i32.mul (i32.add (i32.or (local.get 0) (i32.const 0)) (i32.const 0)) (i32.const 1))"
    )
    assert "return l0\n" in src


def test_shift_by_multiple_of_width_disappears():
    assert "return l0\n" in function_source("(i32.shl (local.get 0) (i32.const 32))")


def test_unsigned_division_by_constant_is_inline():
    src = function_source(
        "(i32.add (i32.div_u (local.get 0) (i32.const 7)) (i32.rem_u (local.get 1) (i32.const 10)))"
    )
    assert "l0 // 7" in src and "l1 % 10" in src and "i32_div_u" not in src


def test_division_by_variable_keeps_its_trap():
    assert "i32_div_u(l0, l1)" in function_source("(i32.div_u (local.get 0) (local.get 1))")


def test_constants_fold():
    src = function_source(
        "(i32.add (i32.mul (i32.const 6) (i32.const 7)) (i32.shl (i32.const 1) (i32.const 33)))"
    )
    assert "return 44\n" in src


def test_signed_compare_against_constant_needs_no_sign_flip():
    assert "l0 < 1 or l0 > 2147483647" in function_source("(i32.lt_s (local.get 0) (i32.const 1))")
    assert "2147483648 <= l0 < 4294967295" in function_source(
        "(i32.lt_s (local.get 0) (i32.const -1))"
    )


def test_adding_a_large_constant_subtracts_a_small_one():
    assert "(l0 - 1) % 4294967296" in function_source("(i32.add (local.get 0) (i32.const -1))")
    assert "(l0 + 8) % 4294967296" in function_source("(i32.sub (local.get 0) (i32.const -8))")


def _signed(value: int, bits: int) -> int:
    return value - ((value >> (bits - 1)) & 1) * (1 << bits)


EDGES32 = [0, 1, 2, 0x7FFFFFFE, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF]
EDGES64 = [0, 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 2, 2**64 - 1]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["lt_s", "le_s", "gt_s", "ge_s", "add", "sub"]),
    st.sampled_from([32, 64]),
    st.data(),
)
def test_operations_with_a_constant_operand_match_python(op, bits, data):
    edges = EDGES32 if bits == 32 else EDGES64
    c = data.draw(st.sampled_from(edges) | st.integers(0, 2**bits - 1), label="constant")
    t = f"i{bits}"
    body = f"({t}.{op} (local.get 0) ({t}.const {_signed(c, bits)}))"
    result = "(result i32)" if op.endswith("_s") else f"(result {t})"
    wat = f'(module (func (export "f") (param {t}) {result} {body}))'
    module = load_module(wasmtime.wat2wasm(wat))
    xs = data.draw(st.lists(st.sampled_from(edges) | st.integers(0, 2**bits - 1), max_size=8))
    for x in [*edges, *xs]:
        sx, sc = _signed(x, bits), _signed(c, bits)
        expected = {
            "lt_s": int(sx < sc),
            "le_s": int(sx <= sc),
            "gt_s": int(sx > sc),
            "ge_s": int(sx >= sc),
            "add": _signed((x + c) % 2**bits, bits),
            "sub": _signed((x - c) % 2**bits, bits),
        }[op]
        assert module.f(x) == expected, (op, bits, x, c)


def test_byte_access_indexes_the_bytearray():
    src = function_source(
        "(i32.store8 (local.get 0) (local.get 1)) (i32.load8_u offset=3 (local.get 0))"
    )
    assert "m0[l0] = l1 & 255" in src and "m0[l0 + 3]" in src


def test_forward_branch_becomes_if_without_loop():
    src = function_source(
        "(block (br_if 0 (i32.eqz (local.get 0))) (local.set 1 (i32.const 5))) (local.get 1)"
    )
    assert "while" not in src and "if not l0 == 0:" in src


def test_block_ending_in_its_loop_shares_one_while():
    src = function_source(
        """(block $done (loop $next
             (br_if $done (i32.eqz (local.get 0)))
             (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
             (br $next)))
           (local.get 1)"""
    )
    assert src.count("while True:") == 1 and "_br" not in src


def test_deep_branch_crosses_loops_through_br_variable():
    body = """(block $out (loop $a (loop $b
                 (br_if $out (local.get 0))
                 (local.set 0 (i32.const 1))
                 (br $b)))) (i32.const 9)"""
    src = function_source(body)
    assert "_br" in src
    module = load_module(
        wasmtime.wat2wasm(f'(module (func (export "f") (param i32 i32) (result i32) {body}))')
    )
    assert module.f(0, 0) == 9


def test_pending_load_is_evaluated_before_a_store_that_follows():
    src = function_source(
        "(i32.load (local.get 0)) (i32.store (local.get 0) (local.get 1))", params="(param i32 i32)"
    )
    lines = [line.strip() for line in src.splitlines()]
    load = next(i for i, line in enumerate(lines) if "load_u32" in line)
    store = next(i for i, line in enumerate(lines) if "store_u32" in line)
    assert load < store and re.match(r"t\d+ = load_u32", lines[load])


def test_call_result_pending_across_a_write_to_its_argument():
    # The call's result stays pending; writing the local its argument read must spill it first.
    wat = """(module
      (func $id (param i32) (result i32) (local.get 0))
      (func (export "f") (param i32) (result i32)
        (call $id (local.get 0))
        (local.set 0 (i32.const 100))
        (local.get 0)
        i32.add))"""
    assert load_module(wasmtime.wat2wasm(wat)).f(1) == 101


def test_call_indirect_result_pending_across_a_write_to_its_index():
    wat = """(module
      (type $t (func (result i32)))
      (table funcref (elem $one $two))
      (func $one (result i32) (i32.const 1))
      (func $two (result i32) (i32.const 2))
      (func (export "f") (param i32) (result i32)
        (call_indirect (type $t) (local.get 0))
        (local.set 0 (i32.const 1))
        (i32.mul (i32.const 10) (local.get 0))
        i32.add))"""
    assert load_module(wasmtime.wat2wasm(wat)).f(0) == 11


SWITCH = """(module (func (export "f") (param i32) (result i32) (local i32)
  (block $exit
    (block $default (block $c2 (block $c1 (block $c0
      (br_table $c0 $c1 $c0 $c2 $c1 $default (local.get 0)))
      (local.set 1 (i32.const 10)) (br $exit))
      (local.set 1 (i32.const 11)) (br $exit))
      (local.set 1 (i32.const 12)) (br $exit))
    (local.set 1 (i32.const 99)))
  (local.get 1)))"""


def test_switch_cases_sit_in_their_dispatch_leaves():
    source = wasm2py.translate(wasmtime.wat2wasm(SWITCH))
    body = source[source.index("    def f0(") : source.index("\n    F0 =")]
    assert "_br" not in body and body.count("while True:") == 1  # only $exit's loop


def test_switch_with_scattered_targets_matches_wasmtime():
    wasm = wasmtime.wat2wasm(SWITCH)
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), []).exports(store)[
        "f"
    ]
    for flat in (None, True):
        module = load_module(wasm, flat=flat)
        for i in [0, 1, 2, 3, 4, 5, 6, 100, -1]:
            assert module.f(i) == reference(store, i), (flat, i)


def _agrees_with_wasmtime(wat: str, export: str, *args) -> None:
    wasm = wasmtime.wat2wasm(wat)
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    try:
        expected = ("value", reference.exports(store)[export](store, *args))
    except wasmtime.Trap as trap:
        expected = ("trap", str(trap.trap_code))
    for flat in (None, True):
        inst = load_module(wasm, flat=flat).instantiate()
        try:
            got = ("value", inst.exports[export](*args))
        except Trap as trap:
            got = ("trap", trap.message)
        assert got[0] == expected[0], (flat, got, expected)
        if got[0] == "value":
            assert got == expected, (flat, got, expected)


def test_code_after_a_block_nothing_leaves_is_skipped():
    _agrees_with_wasmtime(
        '(module (func (export "f") block (result f32) unreachable end drop))', "f"
    )
    _agrees_with_wasmtime(
        """(module (func (export "f") (param i32) (result i32)
          local.get 0 block block (result i32) br 1 end drop end i32.const 1 i32.xor))""",
        "f",
        5,
    )


def test_local_set_of_an_impure_value_runs_after_pending_impure_entries():
    trap_first = """(module (memory 1) (func (export "f") (param f64) (result i64) (local i32)
      i32.const 65535 i64.load32_s
      local.get 0 i32.trunc_f64_u local.set 1))"""
    inst = load_module(wasmtime.wat2wasm(trap_first)).instantiate()
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst.exports.f(float("inf"))
    _agrees_with_wasmtime(
        """(module
          (global $g (mut i32) (i32.const 0))
          (func $f (result i32) (global.set $g (i32.const 1)) (i32.const 7))
          (func (export "run") (result i32) (local i32)
            call $f  global.get $g local.set 0  local.get 0 i32.add))""",
        "run",
    )


def test_generated_code_writes_variables_only_with_assignment_statements():
    # The AST passes (lower/exprs.py) rely on it: no `:=` anywhere.
    root = Path(__file__).resolve().parent.parent
    for wasm in [*root.glob("tests/programs/*.wasm"), *root.glob("benchmarks/wasm/*.wasm")]:
        tree = ast.parse(wasm2py.translate(wasm.read_bytes()))
        assert not any(isinstance(node, ast.NamedExpr) for node in ast.walk(tree)), wasm.name
