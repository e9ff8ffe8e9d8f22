"""The public contract of generated modules and the runtime, as outside users rely on it."""

from __future__ import annotations

import math
import sys

import pytest
import wasmtime
from wasm2py_runtime import (
    Func,
    Global,
    LinkError,
    Memory,
    StackExhausted,
    Table,
    Trap,
    f32_from_bits,
    f32_to_bits,
)

import wasm2py
from tests.util import load_module


def wat_module(text: str, **options):
    return load_module(wasmtime.wat2wasm(text), "api", **options)


ADDER = """(module
  (memory (export "memory") 1 3)
  (global $counter (export "counter") (mut i32) (i32.const -7))
  (global (export "big") i64 (i64.const -1))
  (table (export "table") 2 funcref)
  (elem (i32.const 0) $add)
  (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "pair") (param i64) (result i64 i32) (local.get 0) (i32.const 1))
  (func (export "nothing"))
  (func (export "bump") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1))) (global.get $counter))
  (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "half") (param f32) (result f32) (f32.mul (local.get 0) (f32.const 0.5)))
)"""


def test_module_without_imports_is_usable_directly():
    m = wat_module(ADDER)
    assert m.add(1, 2) == 3


def test_every_instantiate_is_independent():
    m = wat_module(ADDER)
    a, b = m.instantiate(), m.instantiate()
    assert a.exports.bump() == -6 and a.exports.bump() == -5
    assert b.exports.bump() == -6


def test_exports_are_a_mapping_with_attribute_access():
    inst = wat_module(ADDER).instantiate()
    assert set(inst.exports) >= {"add", "memory", "counter", "table"}
    assert inst.exports["add"] is inst.exports.add is inst.add


def test_ints_accepted_signed_or_unsigned_and_returned_signed():
    inst = wat_module(ADDER).instantiate()
    assert inst.exports.add(0xFFFFFFFF, 0) == -1
    assert inst.exports.add(-1, 0) == -1
    assert inst.exports.add(2**31 - 1, 1) == -(2**31)


def test_several_results_are_a_tuple_and_none_is_none():
    inst = wat_module(ADDER).instantiate()
    assert inst.exports.pair(2**64 - 1) == (-1, 1)
    assert inst.exports.nothing() is None


def test_globals_read_signed_and_write_when_mutable():
    inst = wat_module(ADDER).instantiate()
    counter = inst.exports.counter
    assert isinstance(counter, Global) and counter.value == -7
    counter.value = 0xFFFFFFFE
    assert counter.value == -2 and inst.exports.bump() == -1
    assert inst.exports.big.value == -1
    with pytest.raises(AttributeError):
        inst.exports.big.value = 3


def test_memory_api():
    inst = wat_module(ADDER).instantiate()
    mem = inst.exports.memory
    assert isinstance(mem, Memory)
    assert mem.size == 1 and mem.size() == 1
    mem.write(10, b"abc")
    assert mem.read(10, 3) == b"abc" and mem.data[10:13] == b"abc"
    assert mem.grow(2) == 1 and mem.size == 3
    assert mem.grow(1) == -1
    with pytest.raises(Trap):
        mem.read(3 * 65536 - 1, 2)


def test_table_api():
    inst = wat_module(ADDER).instantiate()
    table = inst.exports.table
    assert isinstance(table, Table) and table.size() == 2
    assert table.get(0)(4, 5) == 9 and table.get(1) is None
    assert table.grow(3) == 2 and table.size == 5
    table.set(4, inst.exports.add)
    with pytest.raises(Trap):
        table.get(5)
    with pytest.raises(TypeError):
        table.set(0, print)  # call_indirect needs a signature: only Wasm functions go in


def test_trap_carries_spec_message_and_instance_stays_usable():
    inst = wat_module(ADDER).instantiate()
    with pytest.raises(Trap) as info:
        inst.exports.div(1, 0)
    assert info.value.message == "integer divide by zero"
    assert inst.exports.div(7, 2) == 3


def test_f32_values_are_rounded_to_single_precision():
    inst = wat_module(ADDER).instantiate()
    assert inst.exports.half(0.1) == f32_from_bits(f32_to_bits(0.1)) * 0.5
    assert math.isinf(inst.exports.half(1e39))


IMPORTER = """(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "f" (func $g (param i32) (result i32)))
  (import "env" "mem" (memory 1))
  (import "env" "g" (global $g (mut i32)))
  (func (export "run") (param i32) (result i32)
    (i32.store (i32.const 0) (call $f (local.get 0)))
    (global.set $g (call $g (i32.load (i32.const 0))))
    (global.get $g)))"""


def test_imports_bind_host_functions_memories_and_globals():
    seen = []

    def host(x):
        seen.append(x)
        return x * 2

    mem, g = Memory(1), Global("i32", 0, mutable=True)
    inst = wat_module(IMPORTER).instantiate({"env": {"f": host, "mem": mem, "g": g}})
    assert inst.exports.run(-3) == -12
    assert seen == [-3, -6]  # the same host function imported twice; args arrive signed
    assert g.value == -12 and mem.read(0, 4) == (-6 & 0xFFFFFFFF).to_bytes(4, "little")


def test_missing_and_mismatched_imports_raise_link_error():
    m = wat_module(IMPORTER)
    with pytest.raises(LinkError):
        m.instantiate()
    with pytest.raises(LinkError):
        m.instantiate({"env": {"f": print, "mem": Memory(1), "g": Global("i64", 0, True)}})
    with pytest.raises(LinkError):
        m.instantiate({"env": {"f": print, "mem": Memory(0), "g": Global("i32", 0, True)}})


def test_one_instance_exports_link_into_another_with_type_checks():
    provider = wat_module(ADDER).instantiate()
    consumer = wat_module(
        """(module (import "p" "add" (func $add (param i32 i32) (result i32)))
           (import "p" "memory" (memory 1))
           (func (export "twice") (param i32) (result i32)
             (call $add (local.get 0) (local.get 0))))"""
    )
    inst = consumer.instantiate({"p": provider.exports})
    assert inst.exports.twice(21) == 42
    wrong = wat_module('(module (import "p" "add" (func (param i64))))')
    with pytest.raises(LinkError):
        wrong.instantiate({"p": provider.exports})
    assert isinstance(provider.exports.add, Func)


RECURSE = """(module
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
  (func $forever (export "forever") (call $forever)))"""


@pytest.mark.parametrize("limit", [200, 1000, 5000])
def test_stack_exhaustion_is_a_trap_at_any_recursion_limit(limit):
    inst = wat_module(RECURSE).instantiate()
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        with pytest.raises(StackExhausted):
            inst.exports.forever()
        assert inst.exports.down(limit // 4) == limit // 4
    finally:
        sys.setrecursionlimit(old)


def test_start_trap_and_segment_trap_fail_instantiation():
    m = wat_module("(module (func $s unreachable) (start $s))")
    with pytest.raises(Trap):
        m.instantiate()
    m = wat_module('(module (memory 1) (data (i32.const 65535) "ab"))')
    with pytest.raises(Trap, match="out of bounds memory access"):
        m.instantiate()


def test_translate_rejects_features_not_allowed():
    wasm = wasmtime.wat2wasm(
        "(module (func (param i32) (result i32) (i32.extend8_s (local.get 0))))"
    )
    wasm2py.translate(wasm)
    with pytest.raises(wasm2py.ValidationError):
        wasm2py.translate(wasm, features=set())


def test_bad_input_raises_wasm_errors_with_offsets():
    with pytest.raises(wasm2py.DecodeError) as info:
        wasm2py.translate(b"\0asm\x01\0\0\0\x01\x05")
    assert info.value.offset is not None
    with pytest.raises(wasm2py.ValidationError) as info:
        wasm2py.translate(wasmtime.wat2wasm("(module (func (result i32) (i64.const 0)))"))
    assert isinstance(info.value, wasm2py.WasmError) and info.value.func_index == 0


def test_maximum_memory_is_not_allocated_until_touched():
    import resource

    m = wat_module(
        """(module (memory (export "mem") 65535 65536)
          (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
          (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"""
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    inst = m.instantiate()
    inst.exports.poke(65535 * 65536 - 4, -5)
    assert inst.exports.peek(65535 * 65536 - 4) == -5
    assert inst.exports.grow(1) == 65535 and inst.exports.grow(1) == -1
    inst.exports.poke(2**32 - 4, 77)
    assert inst.exports.peek(2**32 - 4) == 77
    with pytest.raises(Trap, match="out of bounds memory access"):
        inst.exports.peek(2**32 - 2)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 512 * 1024, "4 GiB declared, a few pages touched"
