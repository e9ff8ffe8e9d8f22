"""A block that ends a loop's body is dissolved into the loop, its exits duplicated in place.

Structured lowering makes a targeted Wasm block a `while True:` left with `break`, and a
branch from inside it to the enclosing loop's head sets `_br` and breaks, for the code after
the block to settle:

    while True:                      # the loop
        ...
        while True:                  # the block
            ... _br = 1; break ...   # to the loop's head
            ... break ...            # to the code after the block
        if _br:
            if _br == 1:
                _br = 0
                continue
            else:
                break
        tail...

This is C's `switch` inside a loop: every case pays for the flag, the break and two tests. When
the block never runs to its end, it can go: its `_br = 1; break` becomes `continue`, its plain
`break` becomes a copy of the (short) tail followed by `continue`, and any other
`_br = k; break` leaves the loop, as it did through the `else`. The code runs the same
statements in the same order.
"""

from __future__ import annotations

import ast

from .exprs import clone, nested_blocks

BR = "_br"
_MAX_TAIL = 6  # statements of tail copied at each plain break
_MAX_COPIES = 24  # plain breaks served with a copy, per block


def _is_br_assign(node: ast.stmt) -> int | None:
    """k if `node` is `_br = k`."""
    if (
        type(node) is ast.Assign
        and len(node.targets) == 1
        and type(node.targets[0]) is ast.Name
        and node.targets[0].id == BR
        and type(node.value) is ast.Constant
    ):
        return node.value.value
    return None


def _settling(node: ast.stmt) -> bool:
    """Whether `node` is the code lowering puts after a loop to settle `_br`: `if`s on `_br`
    whose branches only set `_br`, `continue` or `break`."""
    if type(node) is not ast.If or not _tests_br(node.test):
        return False
    return all(
        _is_br_assign(s) is not None
        or type(s) in (ast.Continue, ast.Break)
        or (type(s) is ast.If and _settling(s))
        for s in (*node.body, *node.orelse)
    )


def _tests_br(test: ast.expr) -> bool:
    """`_br`, `_br == k` or `_br in (k, ...)`."""
    if type(test) is ast.Name:
        return test.id == BR
    return (
        type(test) is ast.Compare
        and type(test.left) is ast.Name
        and test.left.id == BR
        and len(test.ops) == 1
        and type(test.ops[0]) in (ast.Eq, ast.In)
    )


def _settle(statements: list[ast.stmt], value: int) -> tuple[str, int]:
    """Run settling code with `_br` = value: ("continue" | "break" | "fall through", `_br`)."""
    for node in statements:
        kind = type(node)
        if kind is ast.Continue:
            return "continue", value
        if kind is ast.Break:
            return "break", value
        if kind is ast.Assign:
            value = _is_br_assign(node)
            continue
        test = node.test
        if type(test) is ast.Name:
            taken = value != 0
        elif type(test.ops[0]) is ast.Eq:
            taken = value == test.comparators[0].value
        else:
            taken = value in [element.value for element in test.comparators[0].elts]
        outcome, value = _settle(node.body if taken else node.orelse, value)
        if outcome != "fall through":
            return outcome, value
    return "fall through", value


def _depth(statements: list[ast.stmt]) -> int:
    """How deeply compound statements nest in `statements` (0: none)."""
    return max(
        (1 + max(map(_depth, nested)) for s in statements if (nested := nested_blocks(s))),
        default=0,
    )


def _never_completes(statements: list[ast.stmt]) -> bool:
    """Whether control never runs off the end of `statements`."""
    if not statements:
        return False
    last = statements[-1]
    kind = type(last)
    if kind in (ast.Break, ast.Continue, ast.Return, ast.Raise):
        return True
    if kind is ast.If:
        return _never_completes(last.body) and _never_completes(last.orelse)
    return False


class _Exits:
    """The block's own exits (not those of loops inside it): counts, then rewrites them.

    Each goes where leaving the block took it: through the settling code with the `_br` it
    left with, then to the tail. A `break` right after `_br = k` (k not 0: a branch) left
    with k. One inside a test of `_br` passes on a branch from a loop inside the block, with
    `_br` unknown: it gets a copy of the settling code. Any other left with `_br` at 0:
    lowering resets `_br` (`_br = 0`, kept) wherever a branch arrives.
    """

    def __init__(self, settle: ast.If, tail: list[ast.stmt]):
        self.settle = settle
        self.tail = tail
        self.copies = 0
        self.continues = 0

    def count(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            kind = type(node)
            if kind is ast.Continue:
                self.continues += 1
            elif kind is ast.Break:
                self.copies += 1  # at most one copy of the tail each
            elif kind is not ast.While:
                for nested in nested_blocks(node):
                    self.count(nested)

    def rewrite(self, statements: list[ast.stmt], br_tested: bool) -> list[ast.stmt]:
        result: list[ast.stmt] = []
        for k, node in enumerate(statements):
            kind = type(node)
            if kind is ast.Break:
                value = _branch_before(statements, k)
                if value == 0:
                    value = None  # `_br = 0` settles a branch from a loop inside: it stays
                if value is not None:
                    result.pop()
                elif br_tested:
                    result.extend(self.settled())
                    continue
                result.extend(self.leave(0 if value is None else value))
                continue
            if kind is not ast.While:
                tested = br_tested or (kind is ast.If and BR in _names(node.test))
                for nested in nested_blocks(node):
                    nested[:] = self.rewrite(nested, tested)
            result.append(node)
        return result

    def leave(self, value: int) -> list[ast.stmt]:
        """Leaving the block with `_br` = value, settled here."""
        outcome, value = _settle([self.settle], value)
        if outcome == "continue":
            return [*_set_br(value), ast.Continue()]
        if outcome == "break":
            return [*_set_br(value), ast.Break()]
        return [*_set_br(value), *self.to_tail()]

    def settled(self) -> list[ast.stmt]:
        """Leaving the block with `_br` unknown: the settling code, then the tail."""
        return [clone(self.settle), *self.to_tail()]

    def to_tail(self) -> list[ast.stmt]:
        copied = clone(self.tail)
        return copied if _never_completes(copied) else [*copied, ast.Continue()]


def _set_br(value: int) -> list[ast.stmt]:
    if not value:
        return []  # the lowering keeps `_br` at 0 where no branch is under way
    return [
        ast.Assign(targets=[ast.Name(id=BR, ctx=ast.Store())], value=ast.Constant(value), lineno=0)
    ]


def _branch_before(statements: list[ast.stmt], k: int) -> int | None:
    """k' if the statement before `statements[k]` is `_br = k'`."""
    return _is_br_assign(statements[k - 1]) if k else None


def _names(node: ast.expr) -> set[str]:
    return {sub.id for sub in ast.walk(node) if type(sub) is ast.Name}


def _dissolve(loop: ast.While) -> bool:
    """Dissolve one block at the end of `loop`'s body; whether one was."""
    body = loop.body
    for k in range(len(body) - 1):
        block, settle = body[k], body[k + 1]
        if not (
            type(block) is ast.While
            and type(block.test) is ast.Constant
            and block.test.value is True
            and not block.orelse
        ):
            continue
        tail = body[k + 2 :]
        if (
            not _settling(settle)
            or len(tail) > _MAX_TAIL
            or _depth(tail) > 1  # a copy adds no more indentation than the block took away
            or not _never_completes(block.body)
        ):
            continue
        exits = _Exits(settle, tail)
        exits.count(block.body)
        if exits.continues or exits.copies > _MAX_COPIES:
            continue
        body[k:] = exits.rewrite(block.body, False)
        return True
    return False


def dissolve_blocks_ending_loops(func: ast.FunctionDef) -> ast.FunctionDef:
    """Dissolve, in every loop of `func`, a block whose exits only continue the loop, leave
    it, or run the short tail after the block."""
    _visit(func.body)
    return func


def _visit(statements: list[ast.stmt]) -> None:
    for node in statements:
        for nested in nested_blocks(node):
            _visit(nested)
        if type(node) is ast.While:
            while _dissolve(node):
                pass
