"""One module in two engines: wasmtime (the reference) and wasm2py, with the same imports,
the same calls (floats as exact bit patterns), and everything observable compared."""

from __future__ import annotations

import ctypes
import random
import struct
import types
from collections.abc import Sequence
from dataclasses import dataclass, field

import wasmtime
import wasmtime._ffi as wasmtime_ffi
from wasm2py_runtime import Global, Memory, StackExhausted, Table, Trap
from wasm2py_runtime.numeric import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from wasmtime._func import enter_wasm

import wasm2py

from .wasm_smith import FUEL_EXPORT, SMITH_FUEL

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
