"""Translation runs with the cyclic GC off (pipeline.translate): it must make no cycles that
hold lowering state, or memory would grow with the module instead of the largest function."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

import wasm2py
from wasm2py.module import Instr

PROGRAMS = Path(__file__).resolve().parent / "programs"


def _cyclic_garbage_of_translating(wasm: bytes, **options) -> list:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        wasm2py.translate(wasm, **options)
        gc.collect()
        found = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


def _lowering_state(objects: list) -> list:
    return [
        o
        for o in objects
        if isinstance(o, (ast.AST, Instr)) or type(o).__module__.startswith("wasm2py")
    ]


def test_structured_translation_leaves_no_cycles_holding_code():
    garbage = _cyclic_garbage_of_translating((PROGRAMS / "interp.wasm").read_bytes())
    assert _lowering_state(garbage) == []


def test_flat_translation_leaves_no_cycles_holding_code():
    garbage = _cyclic_garbage_of_translating((PROGRAMS / "sort.wasm").read_bytes(), flat=True)
    assert _lowering_state(garbage) == []
