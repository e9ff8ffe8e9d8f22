"""Locals get an initial value only where some path may read them before writing them."""

from __future__ import annotations

import wasmtime

import wasm2py
from tests.util import load_module


def function_body(wat: str, index: int = 0) -> str:
    source = wasm2py.translate(wasmtime.wat2wasm(wat))
    start = source.index(f"    def f{index}(")
    return source[start : source.index("\n    F", start)]


def run_both(wat: str, export: str, *args):
    wasm = wasmtime.wat2wasm(wat)
    ours = load_module(wasm).instantiate().exports[export](*args)
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    return ours, instance.exports(store)[export](store, *args)


SUM_TO = """(module (func (export "f") (param $n i32) (result i32) (local $i i32) (local $s i32)
  (local.set $i (i32.const 1))
  (loop $l
    (local.set $s (i32.add (local.get $s) (local.get $i)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br_if $l (i32.le_u (local.get $i) (local.get $n))))
  (local.get $s)))"""


def test_local_written_before_every_read_gets_no_initial_value():
    body = function_body(SUM_TO)
    assert "l1 = 1" in body and "l1 = 0" not in body


def test_local_read_before_its_first_write_keeps_zero():
    body = function_body(SUM_TO)
    assert "l2 = 0" in body
    assert run_both(SUM_TO, "f", 10) == (55, 55)


def test_local_written_on_one_branch_only_keeps_zero():
    wat = """(module (func (export "f") (param i32) (result i32) (local i32)
      (if (local.get 0) (then (local.set 1 (i32.const 9))))
      (local.get 1)))"""
    assert "l1 = 0" in function_body(wat)
    for arg in (0, 1):
        ours, theirs = run_both(wat, "f", arg)
        assert ours == theirs


def test_global_written_first_thing_is_not_taken_for_an_initial_value():
    wat = """(module (global $g (export "g") (mut i32) (i32.const 0))
      (func (export "f") (result i32) (global.set $g (i32.const 1)) (i32.const 7)))"""
    instance = load_module(wasmtime.wat2wasm(wat)).instantiate()
    assert instance.exports["f"]() == 7 and instance.exports["g"].value == 1
    private = wat.replace('(export "g") ', "").replace(
        "(i32.const 7)", '(i32.const 7)) (func (export "get") (result i32) (global.get $g)'
    )
    instance = load_module(wasmtime.wat2wasm(private)).instantiate()
    instance.exports["f"]()
    assert instance.exports["get"]() == 1
