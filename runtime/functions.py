"""Function references: what exports, tables and `ref.func` hold, and host-function adapters."""

from __future__ import annotations

import struct
import sys

from .traps import OUT_OF_BOUNDS_MEMORY, StackExhausted, Trap
from .values import from_wasm, to_wasm


def signature(params: tuple, results: tuple) -> str:
    """The key two function types compare equal by (Wasm function types are structural)."""
    return " ".join(params) + " -> " + " ".join(results)


class Func:
    """A Wasm function: callable from Python with caller values, and linkable by signature.

    `raw` is the function in generated code's own value representation; linking one module's
    export into another's import passes `raw` straight through, with no conversion.
    """

    __slots__ = ("raw", "params", "results", "sig", "name", "__weakref__")

    def __init__(self, raw, params: tuple, results: tuple, name: str = "?"):
        self.raw = raw
        self.params = params
        self.results = results
        self.sig = signature(params, results)
        self.name = name

    def __call__(self, *args):
        if len(args) != len(self.params):
            raise TypeError(f"{self.name}() takes {len(self.params)} arguments ({len(args)} given)")
        wasm_args = [to_wasm(t, a) for t, a in zip(self.params, args)]
        result = guarded_call(self.raw, wasm_args)
        results = self.results
        if not results:
            return None
        if len(results) == 1:
            return from_wasm(results[0], result)
        return tuple(from_wasm(t, r) for t, r in zip(results, result))

    def __repr__(self) -> str:
        return f"<wasm function {self.name} [{self.sig}]>"


def guarded_call(fn, args):
    """Call into generated code, turning what Python raises for a Wasm trap into `Trap`.

    Memory accesses rely on `struct` raising `struct.error`, and byte accesses (`buf[addr]`)
    raising IndexError, at out-of-bounds addresses (never negative: addresses are unsigned);
    generated code raises IndexError nowhere else. Deep Wasm recursion surfaces as
    RecursionError. All become the spec's traps here, at the boundary.
    """
    if _C_STACK_RECURSION and sys.getrecursionlimit() > _SAFE_RECURSION_LIMIT:
        return _call_with_safe_limit(fn, args)
    try:
        return fn(*args)
    except (struct.error, IndexError):
        raise Trap(OUT_OF_BOUNDS_MEMORY) from None
    except RecursionError:
        raise StackExhausted() from None
    except MemoryError:
        raise StackExhausted("out of memory") from None


# Before 3.11 every Python call also recursed in C, and PyPy turns the limit into stack bytes:
# a limit set high lets deep Wasm recursion overflow the C stack (a crash) before
# RecursionError. There, calls run under a safe cap.
_C_STACK_RECURSION = sys.implementation.name != "cpython" or sys.version_info < (3, 11)
_SAFE_RECURSION_LIMIT = 6000


def _call_with_safe_limit(fn, args):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_SAFE_RECURSION_LIMIT)
    try:
        return guarded_call(fn, args)
    finally:
        sys.setrecursionlimit(limit)


def host_function(fn, params: tuple, results: tuple, name: str) -> Func:
    """Wrap a plain Python callable so generated code can call it with its own values."""
    if not results:

        def call_host(*args):
            fn(*[from_wasm(t, a) for t, a in zip(params, args)])

    elif len(results) == 1:
        (rtype,) = results

        def call_host(*args):
            return to_wasm(rtype, fn(*[from_wasm(t, a) for t, a in zip(params, args)]))

    else:

        def call_host(*args):
            values = tuple(fn(*[from_wasm(t, a) for t, a in zip(params, args)]))
            if len(values) != len(results):
                raise TypeError(f"host function {name} returned {len(values)} values")
            return tuple(to_wasm(t, v) for t, v in zip(results, values))

    func = Func(call_host, params, results, name)
    func.raw = call_host
    return func
