"""Globals shared across instances (imported or exported); private ones are plain variables."""

from __future__ import annotations

from .values import from_wasm, to_wasm


class Global:
    """A Wasm global. `value` reads ints signed; `raw` is what generated code reads and writes."""

    __slots__ = ("valtype", "mutable", "raw")

    def __init__(self, valtype: str, value, mutable: bool = False):
        self.valtype = valtype
        self.mutable = mutable
        self.raw = to_wasm(valtype, value)

    @classmethod
    def from_raw(cls, valtype: str, raw, mutable: bool) -> Global:
        g = cls.__new__(cls)
        g.valtype, g.mutable, g.raw = valtype, mutable, raw
        return g

    @property
    def value(self):
        return from_wasm(self.valtype, self.raw)

    @value.setter
    def value(self, value) -> None:
        if not self.mutable:
            raise AttributeError("global is immutable")
        self.raw = to_wasm(self.valtype, value)

    def __repr__(self) -> str:
        kind = "mut " if self.mutable else ""
        return f"<Global {kind}{self.valtype} = {self.value!r}>"
