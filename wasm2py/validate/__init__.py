"""Validation: is a decoded module valid Wasm 2.0 (without SIMD)?

`validate(module, features)` raises ValidationError at the first broken rule. module.py checks
the declarations, func.py types each body. `block_type` maps a block type to its FuncType.
"""

from ..errors import ValidationError
from .context import ALL_FEATURES
from .func import block_type
from .module import validate

__all__ = ["ALL_FEATURES", "ValidationError", "block_type", "validate"]
