"""wasm2py: translate WebAssembly modules into importable Python modules."""

from .errors import DecodeError, ValidationError, WasmError

__all__ = ["DecodeError", "ValidationError", "WasmError"]
