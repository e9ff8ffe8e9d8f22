"""Initial values only for the locals that may be read before they are written.

Wasm zeroes every local, so lowering starts each function with `lN = 0` for every local it
reads. Most of them are written before any read (a C compiler's locals nearly always are), and
those assignments cost a store on every call. A forward dataflow over the structured body
tracks which locals are surely assigned before each statement; a prologue assignment stays
only for a local some statement may read before that.
"""

from __future__ import annotations

import ast

from .exprs import evaluated, names, stored_names

Assigned = frozenset[str]  # the candidates surely assigned here; None where nothing reaches


class _Unsupported(Exception):
    """A statement the dataflow does not model: every initial value stays."""


class _Reads:
    """Which candidates some statement may read while not surely assigned."""

    def __init__(self, candidates: set[str]):
        self.candidates = candidates
        self.needed: set[str] = set()
        self.reads: dict[int, frozenset[str]] = {}  # statement id -> candidates it reads
        self.loops: list[tuple[list[Assigned], list[Assigned]]] = []  # (breaks, continues)

    def block(self, statements: list[ast.stmt], state: Assigned | None) -> Assigned | None:
        for node in statements:
            if state is None:
                return None
            state = self.statement(node, state)
        return state

    def statement(self, node: ast.stmt, state: Assigned) -> Assigned | None:
        reads = self.reads.get(id(node))
        if reads is None:
            reads = names(*evaluated(node))
            reads = self.reads[id(node)] = frozenset(reads.intersection(self.candidates))
        if not reads <= state:
            self.needed |= reads - state
        kind = type(node)
        if kind is ast.Assign:
            for target in node.targets:
                written = self.candidates.intersection(stored_names(target))
                if written:
                    state = state | written
            return state
        if kind is ast.Expr or kind is ast.Pass or kind is ast.Nonlocal:
            return state
        if kind is ast.Return or kind is ast.Raise:
            return None
        if kind is ast.If:
            return _meet([self.block(node.body, state), self.block(node.orelse, state)])
        if kind is ast.While and not node.orelse:
            return self.loop(node, state)
        if kind is ast.Break:
            self.loops[-1][0].append(state)
            return None
        if kind is ast.Continue:
            self.loops[-1][1].append(state)
            return None
        if kind is ast.Try and not node.orelse and not node.finalbody:
            # A handler may start before any of the body ran: from the state before it.
            handled = [self.block(h.body, state) for h in node.handlers]
            return _meet([self.block(node.body, state), *handled])
        raise _Unsupported(kind.__name__)

    def loop(self, node: ast.While, state: Assigned) -> Assigned | None:
        # Heads only shrink, and a read flagged under a larger head is flagged under the final
        # one too: the flags gathered over all rounds are those of the fixed point.
        head = state
        while True:
            self.loops.append(([], []))
            end = self.block(node.body, head)
            breaks, continues = self.loops.pop()
            new_head = _meet([head, end, *continues])
            if new_head == head:
                break
            head = new_head
        always = isinstance(node.test, ast.Constant) and node.test.value is True
        return _meet(breaks if always else [*breaks, head])


def _meet(states: list[Assigned | None]) -> Assigned | None:
    reachable = [s for s in states if s is not None]
    if not reachable:
        return None
    return frozenset.intersection(*reachable)


def drop_unread_initial_values(func: ast.FunctionDef) -> ast.FunctionDef:
    """Remove `func`'s prologue assignments of locals no statement can read unassigned."""
    prologue: dict[str, int] = {}  # local -> position of its initial assignment
    nonlocals: set[str] = set()  # globals: their writes are effects, never dropped
    for k, node in enumerate(func.body):
        if isinstance(node, ast.Nonlocal):
            nonlocals.update(node.names)
            continue
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
        ):
            break
        if node.targets[0].id not in nonlocals:
            prologue.setdefault(node.targets[0].id, k)
    if not prologue:
        return func
    first = min(prologue.values())
    after = max(prologue.values()) + 1
    reads = _Reads(set(prologue))
    try:
        reads.block(func.body[after:], frozenset())
    except _Unsupported:
        return func
    # Only the first assignment of a name is its initial value: later ones stay.
    drop = {k for local, k in prologue.items() if local not in reads.needed}
    if not drop:
        return func
    func.body[first:after] = [
        node for k, node in enumerate(func.body[first:after], first) if k not in drop
    ]
    return func
