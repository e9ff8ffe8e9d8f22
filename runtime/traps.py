"""Traps: the one exception type generated code raises when Wasm execution must stop."""

from __future__ import annotations


class Trap(Exception):
    """A WebAssembly trap; `message` is the spec's wording ("integer divide by zero", ...)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class StackExhausted(Trap):
    """The Wasm call stack (Python's recursion limit) ran out."""

    def __init__(self, message: str = "call stack exhausted"):
        super().__init__(message)


# The spec's trap messages, named once so generated code and helpers agree.
UNREACHABLE = "unreachable executed"
INT_DIVIDE_BY_ZERO = "integer divide by zero"
INT_OVERFLOW = "integer overflow"
INVALID_CONVERSION = "invalid conversion to integer"
OUT_OF_BOUNDS_MEMORY = "out of bounds memory access"
OUT_OF_BOUNDS_TABLE = "out of bounds table access"
UNDEFINED_ELEMENT = "undefined element"
UNINITIALIZED_ELEMENT = "uninitialized element"
INDIRECT_CALL_MISMATCH = "indirect call type mismatch"
