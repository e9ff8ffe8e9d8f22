"""What validation knows about a module: its index spaces and the allowed features.

module.py builds one `Context` after checking the module's own indices, and func.py reads it
while it types each function body. Errors raised here carry no offset; callers add it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..module import Module
from ..types import NUM_TYPES, REF_TYPES, FuncType, GlobalType, MemoryType, TableType, ValType

# The proposals of Wasm 2.0 that validation can switch off, spelled as wasm-tools spells them.
ALL_FEATURES = frozenset(
    {"sign-extension", "saturating-float-to-int", "multi-value", "bulk-memory", "reference-types"}
)


class Invalid(Exception):
    """A rule was broken; the caller knows where and turns this into a ValidationError."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def fmt_types(types) -> str:
    """`[i32, f32]`, as WABT prints stack types; None (a polymorphic value) prints as `any`."""
    return "[" + ", ".join("any" if t is None else t for t in types) + "]"


def mismatch(expected, actual) -> Invalid:
    return Invalid(f"type mismatch: expected {fmt_types(expected)} but got {fmt_types(actual)}")


def feature_error(ctx: Context, feature: str, what: str) -> Invalid | None:
    """The error for using `what` when `feature` is off, or None when it is on."""
    if feature in ctx.features:
        return None
    return Invalid(f"{what} requires the {feature} feature, which is not enabled")


@dataclass
class Context:
    """The spec's validation context C, plus the feature set and caches func.py fills."""

    module: Module
    features: frozenset[str]
    types: list[FuncType]
    funcs: list[FuncType]  # the function index space, imports first
    tables: list[TableType]
    memories: list[MemoryType]
    globals: list[GlobalType]
    imported_globals: int  # constant expressions may only read these
    elem_types: list[ValType]
    datas: int  # the number of data segments
    has_data_count: bool  # memory.init and data.drop need the data count section
    refs: frozenset[int] = frozenset()  # functions `ref.func` may name inside bodies
    block_types: dict = field(default_factory=dict)  # block type → (params, results) lists

    def check_valtype(self, t: ValType) -> None:
        """A value type outside a table: no SIMD, reference types only with their feature."""
        if t in NUM_TYPES:
            return
        if t == "v128":
            raise Invalid("SIMD is not supported")
        if t in REF_TYPES:
            err = feature_error(self, "reference-types", f"value type {t}")
            if err:
                raise err
            return
        raise Invalid(f"unknown value type {t!r}")

    def check_functype(self, ft: FuncType) -> None:
        for t in ft.params:
            self.check_valtype(t)
        for t in ft.results:
            self.check_valtype(t)
        if len(ft.results) > 1:
            err = feature_error(self, "multi-value", "a function type with several results")
            if err:
                raise err

    def type_at(self, index: int) -> FuncType:
        if not 0 <= index < len(self.types):
            raise Invalid(f"unknown type {index}")
        return self.types[index]

    def func_at(self, index: int) -> FuncType:
        if not 0 <= index < len(self.funcs):
            raise Invalid(f"unknown function {index}")
        return self.funcs[index]

    def table_at(self, index: int) -> TableType:
        if not 0 <= index < len(self.tables):
            raise Invalid(f"unknown table {index}")
        # A valid index other than 0 needs a second table, which needs reference-types.
        return self.tables[index]

    def memory_at(self, index: int) -> MemoryType:
        if not 0 <= index < len(self.memories):
            raise Invalid(f"unknown memory {index}")
        return self.memories[index]

    def global_at(self, index: int) -> GlobalType:
        if not 0 <= index < len(self.globals):
            raise Invalid(f"unknown global {index}")
        return self.globals[index]

    def elem_at(self, index: int) -> ValType:
        if not 0 <= index < len(self.elem_types):
            raise Invalid(f"unknown elem segment {index}")
        return self.elem_types[index]

    def data_at(self, index: int) -> None:
        if not self.has_data_count:
            raise Invalid("data count section required")
        if not 0 <= index < self.datas:
            raise Invalid(f"unknown data segment {index}")
