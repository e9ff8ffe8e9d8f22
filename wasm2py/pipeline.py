"""The pipeline, top to bottom: decode, validate, lower, emit."""

from __future__ import annotations

import gc

from .binary import decode
from .emit import Progress, emit
from .lower.module import lower_module
from .validate import validate

SUPPORTED_FEATURES = frozenset(
    {"sign-extension", "saturating-float-to-int", "multi-value", "bulk-memory", "reference-types"}
)


def translate(
    data: bytes,
    *,
    name: str | None = None,
    features: set[str] | None = None,
    flat: bool | None = None,
    format_with_black: bool = False,
    progress: Progress | None = None,
) -> str:
    """Translate the Wasm binary `data` into the source of a Python module.

    `name` names the module in messages; `features` lists the proposals allowed (None: all that
    wasm2py supports). `flat` forces (True) or forbids (False) the flat control-flow strategy;
    by default it is used only where structured code would be too deeply nested for CPython.
    `progress(done, total)` is called after each function is translated.
    Raises DecodeError for malformed input and ValidationError for an invalid module.
    """
    # Translation makes millions of objects and no reference cycles to speak of, so the cyclic
    # GC only rescans the decoded module over and over: a fifth of the time on large modules.
    collecting = gc.isenabled()
    gc.disable()
    try:
        module = decode(bytes(data))
        validate(module, SUPPORTED_FEATURES if features is None else set(features))
        lowered = lower_module(module, name or "module", flat)
        return emit(lowered, format_with_black=format_with_black, progress=progress)
    finally:
        if collecting:
            gc.enable()
