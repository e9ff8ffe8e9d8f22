"""wasm2py_runtime: what translated modules import. Pure Python, stdlib only, Python 3.9+."""

from .functions import Func
from .globals import Global
from .linking import ExportMap, Instance, LinkError
from .memory import Memory
from .numeric import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from .table import Table
from .traps import StackExhausted, Trap
from .wasi import WASI, WASIExit

__all__ = [
    "ExportMap",
    "Func",
    "Global",
    "Instance",
    "LinkError",
    "Memory",
    "StackExhausted",
    "Table",
    "Trap",
    "WASI",
    "WASIExit",
    "f32_from_bits",
    "f32_to_bits",
    "f64_from_bits",
    "f64_to_bits",
]
