"""Initial values only for the locals that may be read before they are written.

Wasm zeroes every local, so lowering starts each function with `lN = 0` for every local it
reads. Most of them are written before any read (a C compiler's locals nearly always are), and
those assignments cost a store on every call. A forward dataflow over the structured body
tracks which locals are surely assigned before each statement; a prologue assignment stays
only for a local some statement may read before that.
"""

from __future__ import annotations

import ast

from .dataflow import ForwardFlow, Unsupported
from .exprs import evaluated, leading_constants, names, stored_names

Assigned = frozenset[str]  # the candidates surely assigned here; None where nothing reaches


class _Reads(ForwardFlow[Assigned]):
    """Which candidates some statement may read while not surely assigned.

    Heads of loops only shrink, and a read flagged under a larger head is flagged under the
    final one too: the flags gathered over all rounds are those of the fixed point.
    """

    def __init__(self, candidates: set[str]):
        super().__init__()
        self.candidates = candidates
        self.needed: set[str] = set()
        self.reads: dict[int, frozenset[str]] = {}  # statement id -> candidates it reads

    def join(self, states: list[Assigned]) -> Assigned:
        return frozenset.intersection(*states)

    def copy(self, state: Assigned) -> Assigned:
        return state  # immutable

    def transfer(self, node: ast.stmt, state: Assigned) -> Assigned:
        reads = self.reads.get(id(node))
        if reads is None:
            reads = names(*evaluated(node))
            reads = self.reads[id(node)] = frozenset(reads.intersection(self.candidates))
        if not reads <= state:
            self.needed |= reads - state
        if type(node) is ast.Assign:
            for target in node.targets:
                written = self.candidates.intersection(stored_names(target))
                if written:
                    state = state | written
        return state


def drop_unread_initial_values(func: ast.FunctionDef) -> ast.FunctionDef:
    """Remove `func`'s prologue assignments of locals no statement can read unassigned."""
    prologue, nonlocals = leading_constants(func)  # globals: their writes are effects
    for name in nonlocals:
        prologue.pop(name, None)
    if not prologue:
        return func
    first = min(prologue.values())
    after = max(prologue.values()) + 1
    reads = _Reads(set(prologue))
    try:
        reads.block(func.body[after:], frozenset())
    except Unsupported:
        return func
    # Only the first assignment of a name is its initial value: later ones stay.
    drop = {k for local, k in prologue.items() if local not in reads.needed}
    if not drop:
        return func
    func.body[first:after] = [
        node for k, node in enumerate(func.body[first:after], first) if k not in drop
    ]
    return func
