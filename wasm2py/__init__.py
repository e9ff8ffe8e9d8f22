"""wasm2py: translate WebAssembly modules into importable Python modules."""

__version__ = "0.1.0"

from .errors import DecodeError, ValidationError, WasmError
from .pipeline import SUPPORTED_FEATURES, translate

__all__ = ["SUPPORTED_FEATURES", "DecodeError", "ValidationError", "WasmError", "translate"]
