"""Typed memory views: proven-aligned accesses use them, everything else stays exact.

Each case checks both the generated source (which accesses became view indexing) and the
behaviour, against wasmtime where the module runs standalone.
"""

from __future__ import annotations

import struct

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st
from wasm2py_runtime import Trap
from wasm2py_runtime.memory import VIEW_FORMATS, Memory, _struct_view

import wasm2py
from tests.util import load_module, run_both


def source_of(wat: str) -> str:
    return wasm2py.translate(wasmtime.wat2wasm(wat))


STRIDE_LOOP = """
(module (memory 1)
  (func (export "fill") (param $n i32) (result i32)
    (local $p i32) (local $i i32) (local $sum i32)
    (local.set $p (i32.const 64))
    (loop $l
      (i32.store (local.get $p) (i32.mul (local.get $i) (i32.const 7)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $p (i32.const 64))
    (local.set $i (i32.const 0))
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $sum)))
"""


def test_induction_pointer_with_aligned_stride_uses_the_view():
    src = source_of(STRIDE_LOOP)
    assert "m0I[" in src and "load_u32" not in src.split("def f0")[1]
    ours, theirs = run_both(STRIDE_LOOP, "fill", 100)
    assert ours == theirs


def test_odd_stride_keeps_struct_access():
    wat = STRIDE_LOOP.replace("(i32.const 4)", "(i32.const 3)")
    body = source_of(wat).split("def f0")[1]
    assert "m0I[" not in body and "store_u32(m0" in body and "load_u32(m0" in body
    ours, theirs = run_both(wat, "fill", 50)
    assert ours == theirs


def test_parameter_address_is_not_trusted():
    wat = """(module (memory 1)
      (func (export "rw") (param $p i32) (result i64)
        (i64.store offset=8 (local.get $p) (i64.const 0x1122334455667788))
        (i64.load offset=8 (local.get $p))))"""
    body = source_of(wat).split("def f0")[1]
    assert "m0Q" not in body
    for address in (0, 1, 3, 8, 13):
        ours, theirs = run_both(wat, "rw", address)
        assert ours == theirs


def test_reused_local_is_judged_at_each_access():
    wat = """(module (memory 1)
      (func (export "f") (result i32) (local $p i32)
        (i32.store (i32.const 0) (i32.const 0x01020304))
        (i32.store (i32.const 4) (i32.const 0x05060708))
        (local.set $p (i32.const 4))
        (local.set $p (i32.add (i32.load (local.get $p)) (i32.const 0)))
        (local.set $p (i32.const 1))
        (i32.load (local.get $p))))"""
    body = source_of(wat).split("def f0")[1]
    assert "return load_u32(m0, " in body  # the second load, of the misaligned value
    ours, theirs = run_both(wat, "f")
    assert ours == theirs


def test_pointer_that_loses_alignment_around_a_loop_keeps_struct():
    wat = """(module (memory 1)
      (func (export "f") (param $n i32) (result i32) (local $p i32) (local $s i32)
        (i32.store (i32.const 1) (i32.const 0xdeadbeef))
        (local.set $p (i32.const 0))
        (loop $l
          (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $p) (local.get $n))))
        (local.get $s)))"""
    body = source_of(wat).split("def f0")[1]
    assert "m0I" not in body
    ours, theirs = run_both(wat, "f", 9)
    assert ours == theirs


GROW_IN_CALLEE = """
(module (memory 1)
  (func $grow (result i32)
    (drop (memory.grow (i32.const 2)))
    (i32.store (i32.const 0x20000) (i32.const 77))
    (i32.const 5))
  (func (export "f") (result i32)
    (i32.store (i32.const 16) (call $grow))
    (i32.add (i32.load (i32.const 16)) (i32.load (i32.const 0x20000)))))
"""


def test_view_is_fresh_after_a_grow_inside_the_stored_value():
    assert "m0I[4] = f0()" in source_of(GROW_IN_CALLEE)
    ours, theirs = run_both(GROW_IN_CALLEE, "f")
    assert ours == theirs == 82


def test_view_is_fresh_after_the_host_grows_an_exported_memory():
    wat = """(module (memory (export "mem") 1)
      (func (export "set") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "get") (param i32) (result i32) (i32.load (local.get 0))))"""
    aligned = "(i32.and (local.get 0) (i32.const -4))"
    wat = wat.replace("(i32.store (local.get 0)", f"(i32.store {aligned}")
    wat = wat.replace("(i32.load (local.get 0))", f"(i32.load {aligned})")
    assert source_of(wat).count("m0I[") == 2
    instance = load_module(wasmtime.wat2wasm(wat)).instantiate()
    memory = instance.exports["mem"]
    assert memory.grow(1) == 1
    instance.exports["set"](0x1FFFC, 123)
    assert instance.exports["get"](0x1FFFC) == 123
    assert memory.read(0x1FFFC, 4) == struct.pack("<I", 123)
    with pytest.raises(Trap):
        instance.exports["get"](0x20000)


def test_store_keeps_wasm_order_when_both_sides_have_effects():
    # The address traps (out-of-bounds load); the value would have bumped a global first.
    wat = """(module (memory 1)
      (global $calls (export "calls") (mut i32) (i32.const 0))
      (func $bump (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1))) (i32.const 4))
      (func (export "f")
        (i32.store (i32.load (i32.const 0x7ffffff0)) (call $bump))))"""
    instance = load_module(wasmtime.wat2wasm(wat)).instantiate()
    with pytest.raises(Trap):
        instance.exports["f"]()
    assert instance.exports["calls"].value == 0


def test_store_address_reads_global_before_the_value_changes_it():
    wat = """(module (memory 1)
      (global $p (mut i32) (i32.const 8))
      (func $move (result i32) (global.set $p (i32.const 16)) (i32.const 9))
      (func (export "f") (result i32)
        (i32.store (global.get $p) (call $move))
        (i32.load (i32.const 8))))"""
    ours, theirs = run_both(wat, "f")
    assert ours == theirs == 9


LOAD_TO_LOADED_ADDRESS = """(module (memory (export "memory") 1)
  (func (export "f") (param $a i32) (param $b i32)
    (i32.store (i32.shl (i32.load8_u (local.get $a)) (i32.const 2))
               (i32.load (i32.shl (local.get $b) (i32.const 2))))))"""


@pytest.mark.parametrize("a, b", [(0, 1), (70000, 1), (0, 20000), (70000, 20000), (3, 16383)])
def test_store_of_a_load_to_a_loaded_address_uses_the_view_and_traps_the_same(a, b):
    assert "m0I[" in source_of(LOAD_TO_LOADED_ADDRESS).split("def f0")[1].split("F0 =")[0]
    wasm = wasmtime.wat2wasm(LOAD_TO_LOADED_ADDRESS)
    instance = load_module(wasm).instantiate()
    memory = instance.exports["memory"]
    memory.write(0, bytes(range(1, 200)))
    store = wasmtime.Store()
    theirs = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), []).exports(store)
    theirs["memory"].write(store, bytes(range(1, 200)), 0)
    try:
        instance.exports["f"](a, b)
        ours = "ok"
    except Trap:
        ours = "trap"
    try:
        theirs["f"](store, a, b)
        expected = "ok"
    except wasmtime.Trap:
        expected = "trap"
    assert ours == expected
    assert memory.read(0, 65536) == theirs["memory"].read(store, 0, 65536)


FORMATS = {"H": "<H", "h": "<h", "I": "<I", "i": "<i", "Q": "<Q", "d": "<d"}


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 65536 // 8 - 1), st.binary(min_size=8, max_size=8))
def test_views_read_and_write_little_endian_like_struct(index, raw):
    memory = Memory(1)
    for fmt, view in zip(VIEW_FORMATS, memory.views):
        size = struct.calcsize(FORMATS[fmt])
        memory.data[index * 8 : index * 8 + 8] = raw
        element = index * 8 // size
        (expected,) = struct.unpack_from(FORMATS[fmt], memory.data, element * size)
        got = view[element]
        assert got == expected or (got != got and expected != expected)
        view[element] = expected
        assert bytes(memory.data[index * 8 : index * 8 + size]) == raw[:size]


def test_struct_views_for_big_endian_hosts_match_memoryviews():
    memory = Memory(1)
    memory.data[0:16] = bytes(range(1, 17))
    for fmt, view in zip(VIEW_FORMATS, memory.views):
        slow = _struct_view(memory.data, fmt)
        assert slow[1] == view[1]
        slow[0] = view[1]
        assert view[0] == view[1]


def test_host_view_makes_grow_fail_cleanly():
    memory = Memory(1, 4)
    held = memoryview(memory.data)
    assert memory.grow(1) == -1 and memory.pages == 1
    held.release()
    assert memory.grow(1) == 1 and memory.views[2][65536 // 4] == 0


def test_instance_sees_the_growth_another_instance_made_of_a_shared_memory():
    owner = """(module (memory (export "mem") 1)
      (func (export "grow") (result i32) (memory.grow (i32.const 1)))
      (func (export "put") (param i32 i32)
        (i32.store (i32.and (local.get 0) (i32.const -4)) (local.get 1))))"""
    user = """(module (import "owner" "mem" (memory 1))
      (func (export "get") (param i32) (result i32)
        (i32.load (i32.and (local.get 0) (i32.const -4)))))"""
    assert "m0I[" in source_of(user)
    first = load_module(wasmtime.wat2wasm(owner)).instantiate()
    second = load_module(wasmtime.wat2wasm(user)).instantiate(
        {"owner": {"mem": first.exports["mem"]}}
    )
    with pytest.raises(Trap):
        second.exports["get"](0x10000)
    assert first.exports["grow"]() == 1
    first.exports["put"](0x10004, 99)
    assert second.exports["get"](0x10004) == 99
