"""Helpers shared by tests: translate a binary and load it as a fresh module; run a text
module with wasm2py and with wasmtime."""

from __future__ import annotations

import itertools
import types

import wasm2py

_counter = itertools.count()


def load_module(wasm: bytes, name: str = "module", **options) -> types.ModuleType:
    """Translate `wasm` and exec the source into a new module object."""
    source = wasm2py.translate(wasm, name=name, **options)
    module = types.ModuleType(f"{name}_{next(_counter)}")
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def run_both(wat: str, export: str, *args):
    """(wasm2py's result, wasmtime's result) of calling `export` of the text module `wat`."""
    import wasmtime  # a test-only dependency, like the tests that call this

    wasm = wasmtime.wat2wasm(wat)
    ours = load_module(wasm).instantiate().exports[export](*args)
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    theirs = instance.exports(store)[export](store, *args)
    return ours, theirs
