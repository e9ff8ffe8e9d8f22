"""Forward dataflow over the structured statements lowering produces.

Lowered functions use few statement kinds: assignments, expression statements, `if`,
`while True` with `break`/`continue`, `return`, `raise`, `try` around call_indirect's
lookup, and the `for` over memory slices of lower/strided.py. `ForwardFlow` walks them once, and a loop's body until the state at its head stops
changing; a subclass says what a state is and what one statement does to it. None is the state
of code nothing reaches (after a break, continue, return or raise).

States only ever lose facts (join is an intersection), so a loop entered again (its outer
loop is on another round) resumes from the head it last settled on, met with the new entry
state: the fixed point is the same, and a nest of loops costs rounds in proportion to its
depth instead of doubling with it.
"""

from __future__ import annotations

import ast
from typing import Generic, TypeVar

State = TypeVar("State")


class Unsupported(Exception):
    """A statement the dataflow does not model: the pass leaves the function alone."""


class ForwardFlow(Generic[State]):
    """Subclasses define `join`, `copy` and `transfer`."""

    def __init__(self) -> None:
        self.loops: list[tuple[list[State], list[State]]] = []  # (breaks, continues)
        self.heads: dict[int, State] = {}  # loop id -> the head state it last settled on

    def join(self, states: list[State]) -> State:
        """The state where control from all of `states` (none of them None) meets."""
        raise NotImplementedError

    def copy(self, state: State) -> State:
        """A state that `transfer` may change without changing `state`."""
        raise NotImplementedError

    def transfer(self, node: ast.stmt, state: State) -> State:
        """The state after what `node` evaluates itself (its nested statements aside)."""
        raise NotImplementedError

    def widen(self, head: State, new_head: State, rounds: int) -> State:
        """The head to try next, after `rounds` rounds of a loop: a subclass whose states
        can grow many times over (intervals) gives up moving facts here."""
        return new_head

    def merge(self, states: list[State | None]) -> State | None:
        reachable = [s for s in states if s is not None]
        return self.join(reachable) if reachable else None

    def block(self, statements: list[ast.stmt], state: State | None) -> State | None:
        for node in statements:
            if state is None:
                return None
            state = self.statement(node, state)
        return state

    def statement(self, node: ast.stmt, state: State) -> State | None:
        state = self.transfer(node, state)
        kind = type(node)
        if kind is ast.Assign or kind is ast.Expr or kind is ast.Pass or kind is ast.Nonlocal:
            return state
        if kind is ast.Return or kind is ast.Raise:
            return None
        if kind is ast.If:
            taken = self.block(node.body, self.copy(state))
            return self.merge([taken, self.block(node.orelse, state)])
        if (kind is ast.While or kind is ast.For) and not node.orelse:
            return self.loop(node, state)
        if kind is ast.Break:
            self.loops[-1][0].append(state)
            return None
        if kind is ast.Continue:
            self.loops[-1][1].append(state)
            return None
        if kind is ast.Try and not node.orelse and not node.finalbody:
            return self.try_(node, state)
        raise Unsupported(kind.__name__)

    def loop(self, node: ast.While | ast.For, state: State) -> State | None:
        """A `for` runs like a `while` whose test can fail: its subclass `transfer` says what
        assigning its target does, once, before the loop (the target is a fresh name that
        nothing else writes)."""
        settled = self.heads.get(id(node))
        head = state if settled is None else self.join([settled, state])
        rounds = 0
        while True:
            self.loops.append(([], []))
            end = self.block(node.body, self.copy(head))
            breaks, continues = self.loops.pop()
            new_head = self.merge([head, end, *continues])
            rounds += 1
            if new_head is not None:
                new_head = self.widen(head, new_head, rounds)
            if new_head == head:
                break
            head = new_head
        self.heads[id(node)] = self.copy(head)
        always = type(node) is ast.While and type(node.test) is ast.Constant and node.test.value
        return self.merge(breaks if always else [*breaks, head])

    def try_(self, node: ast.Try, state: State) -> State | None:
        # A handler starts from whatever state the body had reached when it raised.
        reached: list[State | None] = [self.copy(state)]
        for statement in node.body:
            if state is None:
                break
            state = self.statement(statement, state)
            reached.append(None if state is None else self.copy(state))
        entry = self.merge(reached)
        handled = [self.block(h.body, self.copy(entry)) for h in node.handlers]
        return self.merge([state, *handled])
