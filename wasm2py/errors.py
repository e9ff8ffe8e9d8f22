"""The exceptions wasm2py raises for bad input: every one says what went wrong and where."""

from __future__ import annotations


class WasmError(Exception):
    """Base class of every error caused by the input module."""

    def __init__(self, reason: str, offset: int | None = None, func_index: int | None = None):
        self.reason = reason
        self.offset = offset
        self.func_index = func_index
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.func_index is not None:
            where.append(f"in function {self.func_index}")
        if self.offset is not None:
            where.append(f"at byte 0x{self.offset:x}")
        return f"{self.reason} ({', '.join(where)})" if where else self.reason


class DecodeError(WasmError):
    """The bytes are not a well-formed WebAssembly binary (spec: malformed)."""


class ValidationError(WasmError):
    """The module is well-formed but breaks a validation rule (spec: invalid)."""
