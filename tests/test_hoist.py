"""Loop-invariant arithmetic leaves loops, and only when nothing in the loop can change it."""

from __future__ import annotations

import wasmtime

import wasm2py
from tests.util import load_module

COUNT_BELOW = """
(module
  (global $g (mut i32) (i32.const 3))
  (func $bump (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (func (export "f") (param $n i32) (param $step i32) (result i32) (local $i i32) (local $s i32)
    (loop $outer
      (local.set $i (i32.const 0))
      (loop $inner
        (local.set $s (i32.add (local.get $s) (i32.xor (local.get $n) (global.get $g))))
        (local.set $i (i32.add (local.get $i) (local.get $step)))
        (br_if $inner (i32.lt_s (local.get $i) (local.get $n))))
      (call $bump)
      (br_if $outer (i32.lt_s (global.get $g) (i32.const 6))))
    (local.get $s)))
"""


def translate(wat: str) -> str:
    return wasm2py.translate(wasmtime.wat2wasm(wat))


def body_of(source: str, index: int) -> str:
    start = source.index(f"    def f{index}(")
    return source[start : source.index("\n    F", start)]


def test_sign_flip_of_an_invariant_bound_is_computed_before_the_loops():
    body = body_of(translate(COUNT_BELOW), 1)
    lines = [line.strip() for line in body.splitlines()]
    hoisted = next(line for line in lines if line.endswith("= l0 ^ 2147483648"))
    temp = hoisted.split(" = ")[0]
    assert lines.index(hoisted) < lines.index("while True:")
    assert any(f"<= {temp}" in line or f"< {temp}" in line for line in lines)


def test_values_a_call_in_the_loop_can_change_stay_in_the_loop():
    body = body_of(translate(COUNT_BELOW), 1)
    assert "h1 = l0 ^ g0" not in body and "l0 ^ g0" in body


def test_variables_written_in_the_loop_stay_in_the_loop():
    body = body_of(translate(COUNT_BELOW), 1)
    assert not any(line.strip().startswith("h") and "l2" in line for line in body.splitlines())


def test_hoisting_keeps_results():
    wasm = wasmtime.wat2wasm(COUNT_BELOW)
    store = wasmtime.Store()
    for n, step in [(10, 1), (7, 3), (0, 1), (-5, 2), (1000, 7)]:
        ours = load_module(wasm).instantiate().exports["f"](n, step)
        instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
        assert ours == instance.exports(store)["f"](store, n, step)
