"""Deep and large code: every valid module must translate to Python that compiles and runs.

CPython refuses more than 20 nested loops, 100 indentation levels and 200 nested parentheses;
compilers emit Wasm nested far deeper. Each case runs on wasm2py and on wasmtime and compares.
"""

from __future__ import annotations

import wasmtime

from tests.util import load_module


def run_wasmtime(wasm: bytes, export: str, *args):
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    return instance.exports(store)[export](store, *args)


def compare(wat: str, export: str, argument_lists) -> None:
    """Both strategies (chosen automatically, and flat forced) agree with wasmtime."""
    wasm = wasmtime.wat2wasm(wat)
    for flat in (None, True):
        module = load_module(wasm, "deep", flat=flat)
        for args in argument_lists:
            assert getattr(module, export)(*args) == run_wasmtime(wasm, export, *args), args


def nested_blocks_with_br_table(depth: int, targets: int) -> str:
    """`depth` nested blocks; a br_table of `targets` entries picks how many to leave."""
    labels = " ".join(str((k * 7) % depth) for k in range(targets))
    body = f"(br_table {labels} {depth - 1} (local.get 0))"
    for k in range(depth):
        body = f"(block {body}) (local.set 1 (i32.add (i32.mul (local.get 1) (i32.const 3)) (i32.const {k})))"
    return f"""(module (func (export "f") (param i32) (result i32) (local i32)
        {body} (local.get 1)))"""


def test_thousand_nested_blocks_with_5000_target_br_table():
    wat = nested_blocks_with_br_table(1000, 5000)
    compare(wat, "f", [(0,), (1,), (7,), (999,), (1234,), (4999,), (5000,), (2**31,)])


def test_deeply_nested_loops_with_branches_out_of_all_of_them():
    depth = 60
    inner = (
        "(br_if $l0 (i32.lt_u (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (local.get 0)))"
    )
    body = inner
    for k in range(depth - 1, -1, -1):
        exit_check = f"(br_if $out (i32.gt_u (local.get 1) (i32.const {1000 + k})))"
        body = f"(loop $l{k} {exit_check} {body})"
    wat = f"""(module (func (export "f") (param i32) (result i32) (local i32)
        (block $out {body}) (local.get 1)))"""
    compare(wat, "f", [(0,), (5,), (100,), (5000,)])


def test_deeply_nested_ifs_with_results():
    depth = 400
    body = "(local.get 0)"
    for k in range(depth):
        body = (
            f"(if (result i32) (i32.and (local.get 0) (i32.const {1 << (k % 31)}))"
            f" (then (i32.add {body} (i32.const {k}))) (else (i32.sub (local.get 0) (i32.const {k}))))"
        )
    wat = f'(module (func (export "f") (param i32) (result i32) {body}))'
    compare(wat, "f", [(0,), (1,), (0x55555555,), (-1,)])


def test_long_operand_chains_and_deep_stacks():
    chain = "(local.get 0)" + " (i32.const 3) i32.mul (i32.const 1) i32.add" * 3000
    pushes = " ".join(f"(i32.const {k})" for k in range(1500)) + " i32.add" * 1499
    wat = f"""(module
      (func (export "chain") (param i32) (result i32) {chain})
      (func (export "stack") (result i32) {pushes}))"""
    compare(wat, "chain", [(0,), (12345,)])
    compare(wat, "stack", [()])


def test_function_of_90000_instructions():
    statements = " ".join(
        f"(local.set 1 (i32.xor (local.get 1) (i32.add (local.get 0) (i32.const {k}))))"
        for k in range(18000)
    )
    wat = f'(module (func (export "f") (param i32) (result i32) (local i32) {statements} (local.get 1)))'
    compare(wat, "f", [(0,), (99,)])


def test_switch_inside_loop_nested_deeper_than_python_allows():
    cases = 120
    body = f"(br_table {' '.join(str(k) for k in range(cases))} (i32.rem_u (local.get 1) (i32.const {cases})))"
    for k in range(cases):
        body = (
            f"(block {body}) (local.set 2 (i32.add (local.get 2) (i32.const {k + 1}))) (br $next)"
        )
    wat = f"""(module (func (export "f") (param i32) (result i32) (local i32 i32)
      (loop $loop
        (block $next {body})
        (local.set 1 (i32.add (local.get 1) (i32.const 7)))
        (br_if $loop (i32.lt_u (local.get 1) (local.get 0))))
      (local.get 2)))"""
    compare(wat, "f", [(0,), (1000,)])


def test_analysis_of_loop_nests_grows_with_depth_not_exponentially():
    # Every level resets a pointer that the innermost loop misaligns, so each loop's head
    # changes whenever it is entered; forcing the structured strategy keeps all 24 levels in
    # one Python nest for the dataflow passes. Doubling per level would take minutes here.
    import time

    import wasm2py

    body = (
        "(local.set 1 (i32.add (local.get 1) (i32.const 1)))"
        "(i32.store (local.get 2) (local.get 1))"
        "(local.set 2 (i32.add (local.get 2) (i32.const 1)))"
    )
    for level in range(24):
        loop = f"(loop $l{level} {body} (br_if $l{level} (i32.lt_u (local.get 1) (local.get 0))))"
        body = f"(local.set 2 (i32.const 0)) {loop}"
    wat = f"""(module (memory 1) (func (export "f") (param i32) (result i32) (local i32 i32)
        {body} (local.get 1)))"""
    start = time.perf_counter()
    source = wasm2py.translate(wasmtime.wat2wasm(wat), flat=False)
    assert time.perf_counter() - start < 20
    assert "store_u32(m0, l2" in source  # misaligned: no view
