"""The binary decoder: bytes of a .wasm file in, a well-formed `Module` out.

`decode` raises DecodeError (with the byte offset) for anything malformed. It does not
validate: index ranges and types are checked in wasm2py.validate.
"""

from __future__ import annotations

from ..module import Module
from .sections import read_module

__all__ = ["decode"]


def decode(data: bytes) -> Module:
    """Decode a WebAssembly 2.0 binary module."""
    return read_module(bytes(data))
