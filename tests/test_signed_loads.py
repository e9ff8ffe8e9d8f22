"""Values only ever compared as signed are loaded through the signed view (lower/signed.py):
the compares lose their sign flips, and every result stays what Wasm says."""

from __future__ import annotations

import struct

import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

import wasm2py
from tests.util import load_module

# Insertion sort of n i32 at address 0, by signed compare; returns the element at `probe`.
INSERTION_SORT = """
(module (memory (export "memory") 1)
  (func (export "sort") (param $n i32) (param $probe i32) (result i32)
    (local $i i32) (local $j i32) (local $key i32) (local $prev i32)
    (local.set $i (i32.const 1))
    (block $sorted (loop $outer
      (br_if $sorted (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $key (i32.load (i32.shl (local.get $i) (i32.const 2))))
      (local.set $j (local.get $i))
      (block $placed (loop $inner
        (br_if $placed (i32.eqz (local.get $j)))
        (local.set $prev (i32.load (i32.sub (i32.shl (local.get $j) (i32.const 2)) (i32.const 4))))
        (br_if $placed (i32.le_s (local.get $prev) (local.get $key)))
        (i32.store (i32.shl (local.get $j) (i32.const 2)) (local.get $prev))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $inner)))
      (i32.store (i32.shl (local.get $j) (i32.const 2)) (local.get $key))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (i32.load (i32.shl (local.get $probe) (i32.const 2)))))
"""


def _function_body(wat: str) -> str:
    source = wasm2py.translate(wasmtime.wat2wasm(wat))
    return source.split("def f0(")[1].split("F0 = ")[0]


def test_elements_compared_signed_are_loaded_signed():
    body = _function_body(INSERTION_SORT)
    assert "m0i[" in body
    assert "if l5 <= h2:" in body  # prev <= key (hoisted), without sign flips


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=40))
def test_signed_sort_orders_like_python_and_like_wasmtime(values):
    wasm = wasmtime.wat2wasm(INSERTION_SORT)
    instance = load_module(wasm).instantiate()
    memory = instance.exports["memory"]
    data = struct.pack(f"<{len(values)}i", *values)
    memory.write(0, data)
    probe = len(values) // 2
    ours = instance.exports["sort"](len(values), probe)
    store = wasmtime.Store()
    theirs_instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    theirs_memory = theirs_instance.exports(store)["memory"]
    theirs_memory.write(store, data, 0)
    theirs = theirs_instance.exports(store)["sort"](store, len(values), probe)
    assert ours == theirs
    expected = sorted(values)
    assert memory.read(0, len(data)) == struct.pack(f"<{len(values)}i", *expected)
    assert theirs_memory.read(store, 0, len(data)) == memory.read(0, len(data))
