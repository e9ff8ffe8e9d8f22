"""The one place that decides how module state is named and reached from generated code.

Like Cranelift's FuncEnvironment: lowering asks here for a function, global, memory or table and
never decides the representation itself. Every identifier generated code uses comes from here or
from the per-function names in function.py; none comes from the binary.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from wasm2py_runtime.memory import VIEW_FORMATS

from ..module import Module
from ..types import FuncType, GlobalType
from .global_alignment import global_alignment
from .stack import name


def func_id(index: int) -> str:
    return f"f{index}"


def funcref_id(index: int) -> str:
    return f"F{index}"


def memory_id(index: int) -> str:
    return f"M{index}"


def memory_bytes_id(index: int) -> str:
    return f"m{index}"


def memory_view_id(index: int, fmt: str) -> str:
    """A typed view of memory `index` (fmt from wasm2py_runtime.memory.VIEW_FORMATS)."""
    return f"m{index}{fmt}"


def is_memory_data(name: str) -> bool:
    """Whether `name` is a memory's bytes (`memory_bytes_id`) or one of its typed views."""
    if name[:1] != "m":
        return False
    index = name[1:-1] if name[-1:] in VIEW_FORMATS else name[1:]
    return index.isdigit()


def is_memory_view(name: str) -> bool:
    """Whether `name` is one of a memory's typed views (not its bytes)."""
    return is_memory_data(name) and name[-1:] in VIEW_FORMATS


def memory_watcher_id(index: int) -> str:
    return f"V{index}"


def table_id(index: int) -> str:
    return f"T{index}"


def table_elements_id(index: int) -> str:
    return f"T{index}e"


def private_global_id(index: int) -> str:
    return f"g{index}"


def shared_global_id(index: int) -> str:
    return f"G{index}"


DATA_SEGMENTS = "D"
ELEM_SEGMENTS = "E"


@dataclass
class Env:
    module: Module
    func_types: list[FuncType] = field(init=False)
    global_types: list[GlobalType] = field(init=False)
    shared_globals: set[int] = field(init=False)
    aligned_globals: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        m = self.module
        self.func_types = m.func_types()
        self.global_types = m.global_types()
        n_imported = len(m.imported("global"))
        exported = {e.index for e in m.exports if e.kind == "global"}
        self.shared_globals = set(range(n_imported)) | exported
        # Private globals' alignment at all times, by the name generated code reads them by.
        self.aligned_globals = {
            private_global_id(k): alignment for k, alignment in global_alignment(m).items()
        }

    def block_type(self, bt) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if bt is None:
            return (), ()
        if isinstance(bt, str):
            return (), (bt,)
        t = self.module.types[bt]
        return t.params, t.results

    def is_shared_global(self, index: int) -> bool:
        return index in self.shared_globals

    def global_load(self, index: int) -> ast.expr:
        if index in self.shared_globals:
            return ast.Attribute(value=name(shared_global_id(index)), attr="raw", ctx=ast.Load())
        return name(private_global_id(index))

    def global_store_target(self, index: int) -> ast.expr:
        if index in self.shared_globals:
            return ast.Attribute(value=name(shared_global_id(index)), attr="raw", ctx=ast.Store())
        return ast.Name(id=private_global_id(index), ctx=ast.Store())


def table_raws_id(index: int, sig: str) -> str:
    """Table `index`'s mirror for `call_indirect` of signature `sig` (see Table.raws)."""
    params, results = (part.replace(" ", "_") for part in sig.split(" -> "))
    return f"T{index}r_{params}__{results}"
