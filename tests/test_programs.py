"""Real C programs compiled to Wasm: translate, import and run them, and compare with wasmtime.

The .wasm files in tests/programs/ are committed (rebuild them with tests/programs/build.sh,
which needs clang and lld). many_functions.wasm holds about 3000 generated functions; sort,
hash and interp are small hand-written programs. Each program runs one sequence of calls on
one instance in wasm2py and one in wasmtime; every result, every trap and the final contents
of linear memory must agree.
"""

from __future__ import annotations

import functools
import math
import time
import types
from pathlib import Path

import pytest
import wasmtime
from wasm2py_runtime import Trap

import wasm2py

PROGRAMS = Path(__file__).parent / "programs"

SEEDS = [0, 1, 0xDEADBEEF - 2**32]


def _many_functions_calls() -> list[tuple[str, tuple]]:
    calls: list[tuple[str, tuple]] = []
    for group in range(24):
        calls += [(f"group_{group}", (seed,)) for seed in SEEDS]
    calls += [("memory_checksum", ()), ("run_all", (1,)), ("memory_checksum", ())]
    calls += [("run_big", (seed,)) for seed in (0, 7, 255, -1)]
    calls += [("api_i64", (a, b)) for a, b in [(0, 0), (1, 2), (-1, 2**63 - 1), (-(2**63), 12345)]]
    floats = [(1.5, -2.25), (0.0, -0.0), (1e300, -1e300), (math.inf, 3.0), (math.nan, 1.0)]
    calls += [("api_f64", args) for args in floats + [(123456.789, 1e-300)]]
    calls += [("api_f32", args) for args in floats + [(65504.0, 2.0**-20)]]
    # the function table has 458 entries: 457 is its last, 458 is out of bounds
    calls += [("trap", (kind, v)) for kind in range(8) for v in (0, 1, 3, 12345, -1, 457, 458)]
    calls.append(("memory_checksum", ()))
    return calls


# Every function export of every program appears here; test_every_export_is_called checks it.
CALLS: dict[str, list[tuple[str, tuple]]] = {
    "many_functions": _many_functions_calls(),
    "sort": [
        *[
            ("sort_checksum", (algo, n, seed))
            for algo in range(7)
            for n, seed in [(0, 1), (1, 2), (300, 3)]
        ],
        ("sort_checksum", (0, 2047, 9)),
        ("sort_checksum", (3, -1, 4)),
        *[("sorts_agree", (n, seed)) for n, seed in [(2, 0), (100, 5), (257, -7)]],
        *[("sort_i64", (n, seed)) for n, seed in [(0, 0), (33, 1), (400, -3)]],
        *[("sort_f64", (n, seed)) for n, seed in [(0, 0), (1, 1), (200, 77)]],
        *[("median_rank", (n, seed)) for n, seed in [(0, 0), (5, 1), (500, 2)]],
    ],
    "hash": [
        *[
            ("hash32", (which, n, seed))
            for which in range(5)
            for n, seed in [(0, 1), (3, 2), (1000, -3)]
        ],
        *[
            ("hash64", (which, n, key))
            for which in (0, 1)
            for n, key in [(0, 0), (7, 1), (777, -(2**63))]
        ],
        *[("crc_agree", (n, seed)) for n, seed in [(0, 0), (17, 1), (1023, 9)]],
        *[("hash_texts", (seed,)) for seed in (0, 1, -1)],
        *[("table_probe", (n, seed)) for n, seed in [(0, 0), (10, 1), (1500, 3)]],
    ],
    "interp": [
        *[("vm_run", (prog, arg)) for prog in range(9) for arg in (0, 1, 20, -1)],
        ("vm_run", (4, 0)),
        ("vm_run", (2, 1023)),
        *[("vm_out", (prog, arg)) for prog in range(9) for arg in (5, 1000)],
        *[("vm_all", (arg,)) for arg in (0, 3, -9)],
        *[("calc", (which, x)) for which in range(11) for x in (0, 1, 37, -250, 2**31 - 1)],
        *[("calc_all", (x,)) for x in (0, 12, -99999)],
    ],
}

WASM_FILES = sorted(PROGRAMS.glob("*.wasm"))
NAMES = [path.stem for path in WASM_FILES]

# Programs that fail because of a known translator bug: name -> reason (with a reproducer).
KNOWN_BUGS: dict[str, str] = {}


@functools.cache
def wasm_bytes(name: str) -> bytes:
    return (PROGRAMS / f"{name}.wasm").read_bytes()


@functools.cache
def translated(name: str) -> tuple[str, float]:
    """The generated source and the seconds translate() took."""
    start = time.perf_counter()
    source = wasm2py.translate(wasm_bytes(name), name=name)
    return source, time.perf_counter() - start


@functools.cache
def compiled(name: str) -> tuple[types.CodeType, float]:
    source, _ = translated(name)
    start = time.perf_counter()
    code = compile(source, f"<{name}>", "exec")
    return code, time.perf_counter() - start


def load(name: str) -> types.ModuleType:
    code, _ = compiled(name)
    module = types.ModuleType(name)
    exec(code, module.__dict__)
    return module


def function_exports(name: str) -> list[tuple[str, wasmtime.FuncType]]:
    module = wasmtime.Module(wasmtime.Engine(), wasm_bytes(name))
    return [(e.name, e.type) for e in module.exports if isinstance(e.type, wasmtime.FuncType)]


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is type(b) and a == b


def _mark(name: str):
    if name in KNOWN_BUGS:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
    return name


def test_programs_are_present():
    assert set(CALLS) <= set(NAMES), "a program listed in CALLS has no committed .wasm"
    assert "many_functions" in NAMES
    assert len(wasm_bytes("many_functions")) < 2 * 1024 * 1024


@pytest.mark.parametrize("name", NAMES)
def test_every_export_is_called(name):
    called = {export for export, _ in CALLS.get(name, [])}
    assert called == {export for export, _ in function_exports(name)}


@pytest.mark.parametrize("name", [_mark(n) for n in NAMES])
def test_program_matches_wasmtime(name):
    instance = load(name).instantiate()
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm_bytes(name)), [])
    ref_exports = reference.exports(store)
    mismatches = []
    for export, args in CALLS[name]:
        try:
            expected = ref_exports[export](store, *args)
        except wasmtime.Trap:
            expected = Trap
        try:
            got = instance.exports[export](*args)
        except Trap:
            got = Trap
        if expected is Trap or got is Trap:
            ok = expected is got
        else:
            ok = same(got, expected)
        if not ok:
            mismatches.append(f"{export}{args}: wasm2py {got!r}, wasmtime {expected!r}")
    assert not mismatches, "\n".join(mismatches)
    ref_memory = ref_exports["memory"]
    got_memory = instance.exports["memory"]
    assert len(got_memory) == ref_memory.data_len(store)
    assert got_memory.read(0, len(got_memory)) == ref_memory.read(store, 0, len(got_memory))


def test_many_functions_translation_compiles_and_reports_its_cost(capsys):
    source, translate_seconds = translated("many_functions")
    start = time.perf_counter()
    code = compile(source, "<many_functions cold>", "exec")
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    module = types.ModuleType("many_functions_cold")
    exec(code, module.__dict__)
    instance = module.instantiate()
    import_seconds = compile_seconds + time.perf_counter() - start
    defined = source.count("\n    def f")
    assert defined >= 3000
    assert set(instance.exports) >= {"run_all", "group_0", "trap", "memory"}
    with capsys.disabled():
        print(
            f"\nmany_functions.wasm: {len(wasm_bytes('many_functions'))} bytes, "
            f"{len(function_exports('many_functions'))} exported / {defined} Python functions; "
            f"translate {translate_seconds:.2f}s; source {len(source)} chars, "
            f"{source.count(chr(10))} lines; cold import (compile + exec + instantiate) "
            f"{import_seconds:.2f}s, of which compile {compile_seconds:.2f}s"
        )


# -- reduced reproducers of translator bugs these programs found -------------------------------

# many_functions.wasm first failed here (fixed in 74b0360): clang -O2 leaves a call's result on
# the operand stack while a local its argument read is overwritten, and wasm2py emitted
#     l0 = 100
#     return f0(l0) + l0 & 4294967295
# so the call saw the new value. The same held for call_indirect and memory.grow operands.
PENDING_EFFECT_THEN_LOCAL_SET_WAT = """
(module
  (memory 1 10)
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $id)
  (func $id (param i32) (result i32) local.get 0)
  (func (export "call_then_tee") (param i32) (result i32)
    local.get 0
    call $id
    i32.const 100
    local.tee 0
    i32.add)
  (func (export "nested_call_then_set") (param i32 i32) (result i32)
    (i32.mul (call $id (i32.add (local.get 1) (i32.const 3))) (i32.const 2))
    (local.set 1 (i32.const 100))
    (local.get 1)
    i32.add)
  (func (export "call_indirect_then_set") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0) (i32.const 0))
    (local.set 0 (i32.const 100))
    (local.get 0)
    i32.add)
  (func (export "grow_then_set") (param i32) (result i32)
    (memory.grow (local.get 0))
    (local.set 0 (i32.const 100))
    (local.get 0)
    i32.add))
"""


@pytest.mark.parametrize(
    "export, args",
    [
        ("call_then_tee", (1,)),
        ("nested_call_then_set", (0, 1)),
        ("call_indirect_then_set", (1,)),
        ("grow_then_set", (1,)),
    ],
)
def test_pending_effect_result_outlives_write_to_a_local_it_read(export, args):
    wasm = wasmtime.wat2wasm(PENDING_EFFECT_THEN_LOCAL_SET_WAT)
    module = types.ModuleType("pending_effect")
    exec(compile(wasm2py.translate(wasm), "<pending_effect>", "exec"), module.__dict__)
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    expected = reference.exports(store)[export](store, *args)
    assert module.instantiate().exports[export](*args) == expected
