"""Blocks that end a loop's body are dissolved into the loop (lower/block_exits.py): a C
`switch` in a loop loses its `_br` flag and settling code, and runs exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

import wasm2py
from tests.util import load_module

# A loop around a br_table switch: cases that continue the loop, return, branch past the
# switch, fall into the code after it, and an inner loop that branches out to both.
SWITCH_IN_LOOP = """
(module
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32) (local $j i32)
    (loop $top
      (block $after
        (block $c3 (block $c2 (block $c1 (block $c0
          (br_table $c0 $c1 $c2 $c3 $after (i32.rem_u (local.get $i) (i32.const 5))))
          (local.set $acc (i32.add (local.get $acc) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $top (i32.lt_u (local.get $i) (local.get $n)))
          (return (local.get $acc)))
          (local.set $j (i32.const 0))
          (loop $inner
            (local.set $acc (i32.xor (i32.mul (local.get $acc) (i32.const 33)) (local.get $j)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $after (i32.eq (i32.and (local.get $acc) (i32.const 7)) (i32.const 3)))
            (if (i32.eq (i32.and (local.get $acc) (i32.const 15)) (i32.const 5))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $top)))
            (br_if $inner (i32.lt_u (local.get $j) (i32.const 4))))
          (br $after))
        (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
        (br_if $after (i32.and (local.get $acc) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 3)))
        (br $top))
      (local.set $acc (i32.sub (local.get $acc) (i32.const 1))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
  (local.get $acc)))
"""

INTERP = Path(__file__).resolve().parent.parent / "benchmarks" / "wasm" / "interp.wasm"


def _body(wasm: bytes, index: int = 0) -> str:
    return wasm2py.translate(wasm).split(f"def f{index}(")[1].split(f"F{index} = ")[0]


def test_switch_block_in_a_loop_is_dissolved():
    body = _body(wasmtime.wat2wasm(SWITCH_IN_LOOP))
    assert body.count("while True") == 2  # the outer loop and the inner one, no block
    assert "_br = 1\n" in body  # the inner loop still passes its branch out through `_br`


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 50, 1000])
def test_dissolved_switch_runs_like_wasmtime(n):
    wasm = wasmtime.wat2wasm(SWITCH_IN_LOOP)
    ours = load_module(wasm).instantiate().exports["run"](n)
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    assert ours == instance.exports(store)["run"](store, n)


def test_bytecode_interpreter_dispatch_has_no_branch_flag():
    assert "_br" not in _body(INTERP.read_bytes()).split("while True", 1)[1]


# A branch from a loop inside a case arrives (`_br = 0`) right before the case leaves the
# switch: the reset must stay. (Found in review.)
ARRIVAL_THEN_EXIT = """
(module
  (func (export "f") (param $n i32) (result i32)
    (local $i i32) (local $r i32)
    (block $O
      (loop $L1
        (block $B1
          (br_if $O (i32.eq (local.get $n) (i32.const 77)))
          (br_if $L1 (i32.eq (local.get $n) (i32.const 78)))
          (if (i32.eq (local.get $n) (i32.const 79)) (then (br $B1)))
          (block $L3
            (loop $L4
              (br_if $L3 (local.get $n))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $L4 (i32.lt_u (local.get $r) (i32.const 5))))
            (local.set $r (i32.add (local.get $r) (i32.const 1000))))
          (br $B1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $L1 (i32.lt_u (local.get $i) (i32.const 3))))
      (local.set $r (i32.add (local.get $r) (i32.const 100))))
    (local.get $r)))
"""


@pytest.mark.parametrize("n", [0, 1, 5, 77, 79])
def test_branch_arriving_just_before_the_block_exit_keeps_its_reset(n):
    wasm = wasmtime.wat2wasm(ARRIVAL_THEN_EXIT)
    ours = load_module(wasm).instantiate().exports["f"](n)
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    assert ours == instance.exports(store)["f"](store, n)
