"""Wasm types as plain values: value types are the strings of the text format."""

from __future__ import annotations

from dataclasses import dataclass

ValType = str  # "i32", "i64", "f32", "f64", "v128", "funcref", "externref"

NUM_TYPES = ("i32", "i64", "f32", "f64")
REF_TYPES = ("funcref", "externref")
VAL_TYPES = (*NUM_TYPES, "v128", *REF_TYPES)


@dataclass(frozen=True)
class FuncType:
    params: tuple[ValType, ...]
    results: tuple[ValType, ...]

    def __str__(self) -> str:
        return f"[{' '.join(self.params)}] -> [{' '.join(self.results)}]"


@dataclass(frozen=True)
class Limits:
    min: int
    max: int | None


@dataclass(frozen=True)
class TableType:
    elem: ValType
    limits: Limits


@dataclass(frozen=True)
class MemoryType:
    limits: Limits


@dataclass(frozen=True)
class GlobalType:
    valtype: ValType
    mutable: bool


# A block type is None (no params, no results), a ValType (one result) or a type index.
BlockType = None | ValType | int
