"""Seed modules for the decode fuzzer: small built-in ones, smith ones, and the spec suite's."""

from __future__ import annotations

import random

import wasmtime

import wasm2py

from .common import SPEC_CACHE, name_bytes, section
from .wasm_smith import smith

# Small modules that between them use every section and every shape of immediate.
SEED_WATS = (
    "(module)",
    """(module
      (type $t (func (param i32) (result i32)))
      (import "env" "f" (func $imp (param i32) (result i32)))
      (import "env" "mem" (memory 1 2))
      (import "env" "tab" (table 2 funcref))
      (import "env" "g" (global $gi (mut i64)))
      (global $g (mut i32) (i32.const 7))
      (global f64 (f64.const -1.5))
      (export "g" (global $g))
      (func $add (export "add") (type $t) (i32.add (local.get 0) (global.get $g)))
      (func (export "call") (param i32) (result i32)
        (call_indirect (type $t) (local.get 0) (i32.const 1)))
      (elem (i32.const 0) $add $imp)
      (data (i32.const 8) "hello\\00world")
      (start $s)
      (func $s (global.set $g (i32.const 3))))""",
    """(module
      (memory (export "m") 1)
      (func (export "f") (param i32 i64 f32 f64) (result i64) (local i32 f64)
        (block $out (result i64)
          (loop $l
            (br_if $l (i32.eqz (local.get 0)))
            (br_table $l $l 0 (local.get 0)))
          (i64.const 0))
        (drop (i32.load8_s offset=3 align=1 (i32.const 0)))
        (i64.store offset=8 (i32.const 0) (i64.const -1))
        (f32.store (i32.const 4) (f32.const nan:0x200000))
        (drop (f64.load (i32.const 16)))
        (drop (memory.grow (i32.const 0)))
        (drop (memory.size))
        (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2)))
        (drop)
        (i64.add (i64.extend_i32_s (i32.trunc_sat_f32_s (local.get 2)))
                 (i64.trunc_f64_u (f64.abs (local.get 3))))
        (i64.add (i64.extend8_s (local.get 1)))
        (select (i64.const 1) (i64.const 2) (local.get 0))
        (i64.add)
        (i64.add)))""",
    """(module
      (type $v (func))
      (table $t 3 10 funcref)
      (table $e 2 externref)
      (memory 1)
      (func $a)
      (func (export "bulk") (param externref) (result i32)
        (memory.init 1 (i32.const 0) (i32.const 0) (i32.const 2))
        (data.drop 1)
        (memory.copy (i32.const 4) (i32.const 0) (i32.const 2))
        (memory.fill (i32.const 8) (i32.const 255) (i32.const 4))
        (table.init $t 1 (i32.const 0) (i32.const 0) (i32.const 1))
        (elem.drop 1)
        (table.copy $t $t (i32.const 1) (i32.const 0) (i32.const 1))
        (table.set $e (i32.const 0) (local.get 0))
        (drop (table.grow $e (ref.null extern) (i32.const 1)))
        (table.fill $e (i32.const 0) (ref.null extern) (i32.const 1))
        (drop (table.get $t (i32.const 0)))
        (drop (ref.is_null (ref.func $a)))
        (select (result i32) (i32.const 1) (i32.const 2) (table.size $e)))
      (func (export "multi") (param i32) (result i32 i64)
        (local.get 0)
        (block (param i32) (result i32 i64) (i64.const 1)))
      (elem declare func $a)
      (elem $p funcref (ref.func $a) (ref.null func))
      (elem (table $t) (i32.const 1) funcref (ref.func $a))
      (data "ab")
      (data $d "cd"))""",
)

NAME_SECTION = b"\x00" + name_bytes(b"\x03mod") + b"\x01\x04\x01\x00\x01f" + b"\x02\x03\x01\x00\x00"


def seed_modules() -> list[bytes]:
    """The built-in seeds: SEED_WATS, one with a custom `name` section, and some smith modules."""
    seeds = [wasmtime.wat2wasm(wat) for wat in SEED_WATS]
    seeds.append(seeds[2] + section(0, name_bytes("name") + NAME_SECTION))
    seeds.append(seeds[1] + section(0, name_bytes("custom") + b"\x00\xff"))
    for n in range(8):
        wasm = smith(random.Random(n).randbytes(400 + 200 * n), imports=True)
        if wasm is not None:
            seeds.append(wasm)
    return seeds


def spec_modules(limit: int | None = None) -> list[bytes]:
    """Valid, small modules from the spec suite's cache in out/spec (empty if not converted)."""
    modules = []
    for path in sorted(SPEC_CACHE.glob("*/*.wasm")):
        data = path.read_bytes()
        if len(data) > 20000:
            continue
        try:
            wasm2py.translate(data)
        except wasm2py.WasmError:
            continue
        modules.append(data)
        if limit is not None and len(modules) >= limit:
            break
    return modules
