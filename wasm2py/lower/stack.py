"""The Wasm operand stack as pending Python expressions, spilled to temporaries when needed.

An entry is an expression not yet evaluated. It may stay pending while nothing that follows can
change what it reads or observe it being late: a write to a local it reads, or any other effect
(store, call, global write, a trap) if the entry is impure. Otherwise it is spilled first.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

# Deeper expressions are split: CPython's parser refuses 200 nested parentheses.
MAX_DEPTH = 24


class Entry(NamedTuple):
    """A pending value (a NamedTuple: made once per instruction, so it must be cheap)."""

    expr: ast.expr
    reads: frozenset[int] = frozenset()  # the Wasm locals it reads
    pure: bool = True  # cannot trap and reads neither memory, globals, tables nor calls
    depth: int = 0

    @property
    def trivial(self) -> bool:
        """A constant or a temporary: never changes, so it may be read at any later point."""
        return isinstance(self.expr, ast.Constant) or (
            isinstance(self.expr, ast.Name) and not self.reads
        )


def name(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load())


def store(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Store())


def assign(targets: list[str], values: list[ast.expr]) -> ast.stmt:
    """`a = x` or `a, b = x, y`: every value is read before any target is written."""
    if len(targets) == 1:
        return ast.Assign(targets=[store(targets[0])], value=values[0], lineno=0)
    return ast.Assign(
        targets=[ast.Tuple(elts=[store(t) for t in targets], ctx=ast.Store())],
        value=ast.Tuple(elts=values, ctx=ast.Load()),
        lineno=0,
    )


class ValueStack:
    """Operand stack entries plus the statement list spills are written to."""

    def __init__(self, new_temp):
        self.entries: list[Entry] = []
        self.new_temp = new_temp
        self.out: list[ast.stmt] = []

    def __len__(self) -> int:
        return len(self.entries)

    def push(self, entry: Entry) -> None:
        self.entries.append(entry)

    def pop(self) -> Entry:
        return self.entries.pop()

    def popn(self, n: int) -> list[Entry]:
        """The top `n` entries, in push order."""
        if n == 0:
            return []
        taken = self.entries[-n:]
        del self.entries[-n:]
        return taken

    def peekn(self, n: int) -> list[Entry]:
        return self.entries[len(self.entries) - n :] if n else []

    def truncate(self, height: int) -> None:
        del self.entries[height:]

    def spill_entry(self, index: int) -> None:
        entry = self.entries[index]
        if entry.trivial:
            return
        temp = self.new_temp()
        self.out.append(assign([temp], [entry.expr]))
        self.entries[index] = Entry(name(temp))

    def spill_where(self, predicate, start: int = 0, end: int | None = None) -> None:
        for i in range(start, len(self.entries) if end is None else end):
            if predicate(self.entries[i]):
                self.spill_entry(i)

    def before_effect(self, keep_top: int = 0) -> None:
        """Before a statement with effects: evaluate every impure pending entry, in order.

        The top `keep_top` entries are left pending: the statement itself evaluates them, last.
        """
        self.spill_where(lambda e: not e.pure, end=len(self.entries) - keep_top)

    def before_local_write(self, local: int) -> None:
        """Evaluate the entries reading `local` before it changes; where one of them is impure,
        the impure entries below it go first, to keep Wasm's order of effects."""
        last_impure_reader = max(
            (i for i, e in enumerate(self.entries) if local in e.reads and not e.pure), default=-1
        )
        for i in range(len(self.entries)):
            entry = self.entries[i]
            if local in entry.reads or (not entry.pure and i < last_impure_reader):
                self.spill_entry(i)

    def spill_all(self, start: int = 0) -> None:
        """Leave only constants and temporaries: required before control flow splits."""
        self.spill_where(lambda e: not e.trivial, start)

    def shallow(self, operands: list[Entry]) -> list[Entry]:
        """Popped `operands`, each spilled to a temporary if nesting it deeper would be too deep.

        Spilling evaluates an operand now, so impure ones still pending below it, and impure
        operands before it, are evaluated first to keep Wasm's order of effects.
        """
        if all(e.depth < MAX_DEPTH for e in operands):
            return operands
        self.before_effect()
        result = []
        for e in operands:
            if not e.trivial and (e.depth >= MAX_DEPTH or not e.pure):
                temp = self.new_temp()
                self.out.append(assign([temp], [e.expr]))
                e = Entry(name(temp))
            result.append(e)
        return result
