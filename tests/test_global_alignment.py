"""Private globals that stay aligned (C's stack pointer) let shadow-stack accesses use views."""

from __future__ import annotations

import wasmtime

import wasm2py
from tests.util import load_module
from wasm2py.binary import decode
from wasm2py.lower.global_alignment import global_alignment

STACK = """(module (memory 1)
  (global $sp (mut i32) (i32.const 65536))
  (func $sum (param $n i32) (result i32) (local $frame i32) (local $i i32) (local $s i32)
    (global.set $sp (local.tee $frame (i32.sub (global.get $sp) (i32.const 64))))
    (loop $fill
      (i32.store offset=8 (i32.add (local.get $frame) (i32.shl (local.get $i) (i32.const 2)))
        (i32.mul (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 8))))
    (local.set $i (i32.const 0))
    (loop $add
      (local.set $s (i32.add (local.get $s)
        (i32.load offset=8 (i32.add (local.get $frame) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $add (i32.lt_u (local.get $i) (i32.const 8))))
    (global.set $sp (i32.add (local.get $frame) (i32.const 64)))
    (local.get $s))
  (func (export "f") (param i32) (result i32) (call $sum (local.get 0))))"""


def alignment_of(wat: str) -> dict[int, int]:
    return global_alignment(decode(wasmtime.wat2wasm(wat)))


def test_stack_pointer_moved_by_multiples_of_16_is_16_aligned():
    assert alignment_of(STACK) == {0: 6}  # 65536 and 64: multiples of 64


def test_shadow_stack_accesses_use_views_and_agree_with_wasmtime():
    wasm = wasmtime.wat2wasm(STACK)
    source = wasm2py.translate(wasm)
    assert "m0I[" in source and "load_u32(m0" not in source and "store_u32(m0" not in source
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    for n in (0, 3, 1000):
        ours = load_module(wasm).instantiate().exports["f"](n)
        assert ours == reference.exports(store)["f"](store, n)


def test_value_from_a_parameter_makes_the_global_unknown():
    wat = STACK.replace(
        "(global.set $sp (i32.add (local.get $frame) (i32.const 64)))",
        "(global.set $sp (local.get $n))",
    )
    assert alignment_of(wat) == {}


def test_local_set_from_a_call_makes_the_global_unknown():
    wat = STACK.replace(
        "(local.set $i (i32.const 0))",
        "(local.set $frame (call $sum (local.get $frame))) (local.set $i (i32.const 0))",
    )
    assert alignment_of(wat) == {}


def test_exported_or_odd_globals_are_not_claimed():
    assert (
        alignment_of(STACK.replace("(global $sp (mut i32)", '(global $sp (export "sp") (mut i32)'))
        == {}
    )
    assert alignment_of(STACK.replace("(i32.const 65536)", "(i32.const 65537)")) == {}
    assert alignment_of(STACK.replace("(i32.const 64)", "(i32.const 4)")) == {0: 2}
