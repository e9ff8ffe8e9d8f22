"""Helpers shared by tests: translate a binary and load it as a fresh module."""

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
