"""Tables: lists of references that grow in place, so generated code may keep the list.

`call_indirect` reads a mirror of a funcref table per signature: the raw function where the
entry is a function of that signature, None where the spec's checks would trap. Every change
to a table goes through this module, which keeps the mirrors in step.
"""

from __future__ import annotations

from .functions import Func
from .memory import Count
from .traps import (
    INDIRECT_CALL_MISMATCH,
    OUT_OF_BOUNDS_TABLE,
    UNDEFINED_ELEMENT,
    UNINITIALIZED_ELEMENT,
    Trap,
)

MAX_ELEMENTS = 0xFFFFFFFF
# Growing past this many entries is refused (returns -1) instead of exhausting host memory.
GROW_LIMIT = 10_000_000


class Elements(list):
    """A table's entries; `mirrors` maps a signature to the entries' raw functions (see raws)."""

    __slots__ = ("mirrors",)

    def __init__(self, entries=()):
        super().__init__(entries)
        self.mirrors: dict[str, list] = {}


def _raw(func, sig: str):
    """What a mirror of signature `sig` holds for the entry `func`."""
    return func.raw if func is not None and func.sig == sig else None


def _mirror(sig: str, entries) -> list:
    return [_raw(f, sig) for f in entries]


def _changed(elements: Elements, start: int, stop: int) -> None:
    """Entries [start, stop) were replaced: recompute them in every mirror."""
    for sig, mirror in elements.mirrors.items():
        mirror[start:stop] = _mirror(sig, elements[start:stop])


class Table:
    """A Wasm table of `element` references ("funcref" or "externref")."""

    def __init__(self, element: str, minimum: int, maximum: int | None = None, init=None):
        if element not in ("funcref", "externref"):
            raise ValueError(f"unknown table element type {element!r}")
        if maximum is not None and maximum < minimum:
            raise ValueError("invalid table limits")
        self.element = element
        self.minimum = minimum
        self.maximum = maximum
        self.elements = Elements([init] * minimum)

    @property
    def size(self) -> Count:
        return Count(len(self.elements))

    def get(self, index: int):
        if not 0 <= index < len(self.elements):
            raise Trap(OUT_OF_BOUNDS_TABLE)
        return self.elements[index]

    def set(self, index: int, value) -> None:
        if not 0 <= index < len(self.elements):
            raise Trap(OUT_OF_BOUNDS_TABLE)
        table_set(self.elements, index, self._checked(value))

    def _checked(self, value):
        """A funcref table holds Wasm functions (with signatures) or None, nothing else."""
        if self.element == "funcref" and value is not None and not isinstance(value, Func):
            raise TypeError("a funcref table holds Wasm functions (exports) or None")
        return value

    def grow(self, delta: int, init=None) -> int:
        """Add `delta` entries set to `init`; return the old size, or -1 if it cannot grow."""
        init = self._checked(init)
        old = len(self.elements)
        limit = MAX_ELEMENTS if self.maximum is None else self.maximum
        if delta < 0 or old + delta > min(limit, GROW_LIMIT):
            return -1
        self.elements.extend([init] * delta)
        for sig, mirror in self.elements.mirrors.items():
            mirror.extend([_raw(init, sig)] * delta)
        return old

    def raws(self, sig: str) -> list:
        """The mirror `call_indirect` of type `sig` reads: per entry, its raw function or None.

        None means the entry is null or of another type; the list has the table's length.
        Instances sharing the table share the mirror.
        """
        mirrors = self.elements.mirrors
        if sig not in mirrors:
            mirrors[sig] = _mirror(sig, self.elements)
        return mirrors[sig]

    def matches(self, element: str, minimum: int, maximum: int | None) -> bool:
        """Whether this table can be imported where this type is required."""
        if element != self.element or len(self.elements) < minimum:
            return False
        if maximum is None:
            return True
        return self.maximum is not None and self.maximum <= maximum

    def __repr__(self) -> str:
        return f"<Table {self.element} {len(self.elements)}, max {self.maximum}>"


# Table instructions as generated code calls them: indices and counts are unsigned i32s.


def func_at(elements: list, index: int, sig: str):
    """The raw function `call_indirect` calls, after the spec's three checks.

    Generated code asks the mirror (`Table.raws`) first and comes here when it has no function:
    an index past its end, or None.
    """
    if index >= len(elements):
        raise Trap(UNDEFINED_ELEMENT)
    func = elements[index]
    if func is None:
        raise Trap(f"{UNINITIALIZED_ELEMENT} {index}")
    if func.sig != sig:
        raise Trap(INDIRECT_CALL_MISMATCH)
    return func.raw


def table_get(elements: list, index: int):
    if index >= len(elements):
        raise Trap(OUT_OF_BOUNDS_TABLE)
    return elements[index]


def table_set(elements: Elements, index: int, value) -> None:
    if index >= len(elements):
        raise Trap(OUT_OF_BOUNDS_TABLE)
    elements[index] = value
    for sig, mirror in elements.mirrors.items():
        mirror[index] = _raw(value, sig)


def table_grow(table: Table, value, delta: int) -> int:
    return table.grow(delta, value) & 0xFFFFFFFF


def table_fill(elements: Elements, index: int, value, n: int) -> None:
    if index + n > len(elements):
        raise Trap(OUT_OF_BOUNDS_TABLE)
    elements[index : index + n] = [value] * n
    for sig, mirror in elements.mirrors.items():
        mirror[index : index + n] = [_raw(value, sig)] * n


def table_copy(dst_elements: Elements, src_elements: list, dst: int, src: int, n: int) -> None:
    if src + n > len(src_elements) or dst + n > len(dst_elements):
        raise Trap(OUT_OF_BOUNDS_TABLE)
    dst_elements[dst : dst + n] = src_elements[src : src + n]
    _changed(dst_elements, dst, dst + n)


def table_init(elements: Elements, segment, dst: int, src: int, n: int) -> None:
    if src + n > len(segment) or dst + n > len(elements):
        raise Trap(OUT_OF_BOUNDS_TABLE)
    elements[dst : dst + n] = segment[src : src + n]
    _changed(elements, dst, dst + n)
