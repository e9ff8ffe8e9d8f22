"""wasm2py_runtime: what translated modules import. Pure Python, stdlib only, Python 3.9+."""

from .traps import StackExhausted, Trap

__all__ = ["StackExhausted", "Trap"]
