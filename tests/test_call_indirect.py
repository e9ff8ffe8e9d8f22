"""`call_indirect` reads a per-signature mirror of its table: every way a table changes must
keep it exact (the spec's three traps, and the function an entry holds now)."""

from __future__ import annotations

import pytest
import wasmtime
from wasm2py_runtime import Table, Trap

from tests.util import load_module

# $call: call_indirect (i32, i32) -> i32 on table 0; $call1: (i32) -> i32 on the same table,
# and $call_t1 on table 1 (no elements of its own). The Wasm side can set, fill, copy, grow
# and init table 0.
SOURCE = """(module
  (type $bin (func (param i32 i32) (result i32)))
  (type $un (func (param i32) (result i32)))
  (type $bin2 (func (param i32 i32) (result i32)))
  (table $t (export "table") 4 funcref)
  (table $t1 (export "table1") 2 funcref)
  (elem $seg funcref (ref.func $add) (ref.func $neg) (ref.null func) (ref.func $sub))
  (elem (table $t) (i32.const 0) func $add $sub)
  (elem declare func $neg)
  (func $add (export "add") (type $bin) (i32.add (local.get 0) (local.get 1)))
  (func $sub (export "sub") (type $bin2) (i32.sub (local.get 0) (local.get 1)))
  (func $neg (export "neg") (type $un) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "call") (param i32 i32 i32) (result i32)
    (call_indirect $t (type $bin) (local.get 1) (local.get 2) (local.get 0)))
  (func (export "call1") (param i32 i32) (result i32)
    (call_indirect $t (type $un) (local.get 1) (local.get 0)))
  (func (export "call_t1") (param i32 i32 i32) (result i32)
    (call_indirect $t1 (type $bin2) (local.get 1) (local.get 2) (local.get 0)))
  (func (export "call_loaded") (param i32) (result i32)
    (call_indirect $t (type $bin) (i32.const 7) (i32.const 2)
      (i32.load (local.get 0))))
  (memory 1)
  (data (i32.const 16) "\\03\\00\\00\\00\\04\\00\\00\\00")
  (func (export "set_neg") (param i32) (table.set $t (local.get 0) (ref.func $neg)))
  (func (export "set_null") (param i32) (table.set $t (local.get 0) (ref.null func)))
  (func (export "fill_add") (param i32 i32) (table.fill $t (local.get 0) (ref.func $add) (local.get 1)))
  (func (export "copy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_to_t1") (param i32 i32 i32) (table.copy $t1 $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (table.init $t $seg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow_sub") (param i32) (result i32) (table.grow $t (ref.func $sub) (local.get 0)))
  (func (export "grow_null") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
)"""

# Imports a table and calls through it; exports its own functions to put there.
CLIENT = """(module
  (type $bin (func (param i32 i32) (result i32)))
  (import "host" "table" (table $t 2 funcref))
  (func $mul (export "mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1)))
  (func $neg1 (export "neg1") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  (elem (i32.const 1) func $mul)
  (func (export "call") (param i32 i32 i32) (result i32)
    (call_indirect (type $bin) (local.get 1) (local.get 2) (local.get 0)))
  (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
)"""

STRATEGIES = [pytest.param(False, id="nested"), pytest.param(True, id="flat")]


def _load(text: str, flat: bool):
    return load_module(wasmtime.wat2wasm(text), "indirect", flat=flat)


@pytest.fixture(params=STRATEGIES)
def flat(request):
    return request.param


@pytest.fixture
def inst(flat):
    return _load(SOURCE, flat).instantiate()


def trap(message: str):
    return pytest.raises(Trap, match=f"^{message}$")


def in_step(table: Table) -> None:
    """Every mirror is the table's entries seen through its signature (no stale entry)."""
    assert table.elements.mirrors  # the instance asked for them
    for sig, mirror in table.elements.mirrors.items():
        expected = [f.raw if f is not None and f.sig == sig else None for f in table.elements]
        assert mirror == expected, sig


def test_calls_and_the_three_traps(inst):
    x = inst.exports
    assert x.call(0, 7, 2) == 9 and x.call(1, 7, 2) == 5  # $sub: another type index, same type
    with trap("uninitialized element 2"):
        x.call(2, 7, 2)
    with trap("undefined element"):
        x.call(4, 7, 2)
    with trap("undefined element"):
        x.call(-1, 7, 2)  # 0xFFFFFFFF: unsigned, far out of range
    with trap("indirect call type mismatch"):
        x.call1(0, 5)
    with trap("undefined element"):
        x.call1(9, 5)
    with trap("uninitialized element 1"):
        x.call_t1(1, 7, 2)


def test_the_index_may_come_from_memory(inst):
    x = inst.exports
    assert x.call_loaded(0) == 9  # index 0: $add(7, 2)
    with trap("uninitialized element 3"):
        x.call_loaded(16)
    with trap("undefined element"):
        x.call_loaded(20)
    with trap("out of bounds memory access"):  # the load traps, not the lookup
        x.call_loaded(65533)


def test_wasm_set_fill_copy_init_and_grow(inst):
    x = inst.exports
    assert x.call(1, 7, 2) == 5
    x.fill_add(1, 1)  # over a function of the same type
    assert x.call(1, 7, 2) == 9
    x.init(0, 3, 1)
    assert x.call(0, 7, 2) == 5
    x.copy(1, 0, 1)
    assert x.call(1, 7, 2) == 5
    x.set_neg(0)
    with trap("indirect call type mismatch"):
        x.call(0, 7, 2)
    assert x.call1(0, 5) == -5
    x.set_null(1)
    with trap("uninitialized element 1"):
        x.call(1, 7, 2)
    x.fill_add(1, 3)
    assert [x.call(i, 7, 2) for i in (1, 2, 3)] == [9, 9, 9]
    x.init(0, 0, 4)  # $add $neg null $sub
    assert x.call(0, 7, 2) == 9 and x.call1(1, 5) == -5 and x.call(3, 7, 2) == 5
    with trap("uninitialized element 2"):
        x.call(2, 7, 2)
    x.copy(2, 0, 2)  # [add neg add neg]: overlapping forwards
    assert x.call(2, 7, 2) == 9 and x.call1(3, 5) == -5
    with trap("indirect call type mismatch"):
        x.call(3, 7, 2)
    x.copy(0, 1, 3)  # [neg add neg neg]: overlapping backwards
    assert x.call1(0, 5) == -5 and x.call(1, 7, 2) == 9
    x.copy_to_t1(0, 1, 2)
    assert x.call_t1(0, 7, 2) == 9
    with trap("indirect call type mismatch"):
        x.call_t1(1, 7, 2)
    assert x.grow_sub(2) == 4
    assert x.call(5, 7, 2) == 5
    assert x.grow_null(1) == 6
    with trap("uninitialized element 6"):
        x.call(6, 7, 2)
    with trap("undefined element"):
        x.call(7, 7, 2)
    with pytest.raises(Trap, match="out of bounds table access"):
        x.fill_add(6, 2)  # a trapping fill changes nothing
    with trap("uninitialized element 6"):
        x.call(6, 7, 2)
    in_step(x.table)
    in_step(x.table1)


def test_host_set_and_grow(inst):
    x, table = inst.exports, inst.exports.table
    with trap("undefined element"):
        x.call(4, 7, 2)
    assert table.grow(2, x.sub) == 4
    assert x.call(4, 7, 2) == 5 and x.call(5, 7, 2) == 5
    table.set(5, x.neg)
    with trap("indirect call type mismatch"):
        x.call(5, 7, 2)
    assert x.call1(5, 3) == -3
    table.set(0, None)
    with trap("uninitialized element 0"):
        x.call(0, 7, 2)
    table.set(0, x.add)
    assert x.call(0, 7, 2) == 9
    assert table.grow(1) == 6
    with trap("uninitialized element 6"):
        x.call(6, 7, 2)
    in_step(table)


def test_a_table_shared_between_two_instances_and_the_host(flat):
    table = Table("funcref", 2)
    client = _load(CLIENT, flat)
    a = client.instantiate({"host": {"table": table}})
    b = client.instantiate({"host": {"table": table}})
    other = _load(SOURCE, flat).instantiate()
    with trap("uninitialized element 0"):
        a.exports.call(0, 6, 7)
    assert a.exports.call(1, 6, 7) == 42  # b's element segment wrote the same slot
    table.set(0, other.exports.add)  # a funcref from another module: same signature
    assert a.exports.call(0, 6, 7) == 13 and b.exports.call(0, 6, 7) == 13
    table.set(0, b.exports.neg1)
    with trap("indirect call type mismatch"):
        a.exports.call(0, 6, 7)
    assert b.exports.grow(3) == 2  # grown by one instance, seen by the other and the host
    assert table.size == 5
    with trap("uninitialized element 4"):
        a.exports.call(4, 6, 7)
    with trap("undefined element"):
        a.exports.call(5, 6, 7)
    table.set(4, other.exports.sub)
    assert a.exports.call(4, 6, 7) == -1
    in_step(table)


def test_a_table_exported_by_one_instance_and_imported_by_another(inst, flat):
    client = _load(CLIENT, flat).instantiate({"host": {"table": inst.exports.table}})
    # The client's element segment put its $mul at index 1 of the exporter's table.
    assert inst.exports.call(1, 6, 7) == 42
    assert client.exports.call(0, 6, 7) == 13
    inst.exports.set_neg(0)
    with trap("indirect call type mismatch"):
        client.exports.call(0, 6, 7)
    assert client.exports.grow(2) == 4
    inst.exports.fill_add(4, 2)
    assert client.exports.call(5, 6, 7) == 13
    inst.exports.copy(2, 1, 1)  # the client's $mul, copied by the exporter
    assert inst.exports.call(2, 6, 7) == 42 and client.exports.call(2, 6, 7) == 42
    in_step(inst.exports.table)


def test_a_trap_in_the_callee_is_still_its_own():
    text = """(module
      (type $t (func (param i32) (result i32)))
      (memory 1)
      (table 1 funcref)
      (elem (i32.const 0) $load)
      (func $load (type $t) (i32.load (local.get 0)))
      (func (export "call") (param i32 i32) (result i32)
        (call_indirect (type $t) (local.get 1) (local.get 0))))"""
    x = _load(text, False).instantiate().exports
    assert x.call(0, 0) == 0
    with trap("out of bounds memory access"):
        x.call(0, 65536)
    with trap("undefined element"):
        x.call(1, 0)
