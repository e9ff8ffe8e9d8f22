"""wasm2py: translate WebAssembly modules into importable Python modules."""

from .errors import DecodeError, ValidationError, WasmError
from .pipeline import SUPPORTED_FEATURES, translate

__all__ = ["SUPPORTED_FEATURES", "DecodeError", "ValidationError", "WasmError", "translate"]
