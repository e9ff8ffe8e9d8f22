"""32-bit values that are only ever compared as signed numbers are loaded signed.

Generated code holds an i32 as its unsigned value, so a signed compare flips the sign bit of
both sides first: `l8 ^ 2147483648 < l5 ^ 2147483648`. When a local is loaded from memory
through the unsigned view and is only ever compared that way (or stored back to memory), it
can be loaded through the signed view instead (`m0i`, the same bytes), and the compare is on
the values as they are: `l8 < l5`. A sorting loop's element compares are the common case.

A variable qualifies when each definition loads from `m0I` or is a constant, and each read
is a sign flip or the value of a store to `m0I`. A hoisted flip of such a variable (`h2 =
l5 ^ 2147483648`) read only by compares holds the signed value instead. A compare whose
operands are all flips of these, hoisted flips and constants drops the flips; any other flip
of a signed variable becomes `v + 2147483648`, the same number.
"""

from __future__ import annotations

import ast

from .env import memory_view_id
from .exprs import (
    children,
    evaluated,
    nested_blocks,
    rewrite_statement,
    sign_flipped,
    stored_names,
    with_children,
)

_SIGN = 1 << 31
_UNSIGNED = memory_view_id(0, "I")
_SIGNED = memory_view_id(0, "i")
_ORDERS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def _flipped(node: ast.expr) -> str | None:
    """v if `node` is `v ^ 2147483648`, v a variable."""
    operand = sign_flipped(node)
    return operand.id if type(operand) is ast.Name else None


def _unsigned_load(node: ast.expr) -> bool:
    return (
        type(node) is ast.Subscript
        and type(node.value) is ast.Name
        and node.value.id == _UNSIGNED
        and type(node.ctx) is ast.Load
    )


def _constant(node: ast.expr) -> bool:
    return type(node) is ast.Constant and type(node.value) is int and 0 <= node.value < 1 << 32


class _Survey:
    def __init__(self) -> None:
        self.definitions: dict[str, list[ast.expr]] = {}
        self.other_writes: set[str] = set()
        self.flipped: set[str] = set()  # read as `v ^ 2147483648`
        self.stored: set[str] = set()  # read as the value stored to m0I
        self.compared: set[str] = set()  # read as an operand of a compare
        self.elsewhere: set[str] = set()  # read any other way
        self.compares: list[ast.Compare] = []

    def block(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            single = (
                node.targets[0] if type(node) is ast.Assign and len(node.targets) == 1 else None
            )
            if type(single) is ast.Name:
                self.definitions.setdefault(single.id, []).append(node.value)
            elif type(node) is ast.Assign:
                for target in node.targets:
                    self.other_writes.update(stored_names(target))
            if (
                type(single) is ast.Subscript
                and type(single.value) is ast.Name
                and single.value.id == _UNSIGNED
                and type(node.value) is ast.Name
            ):
                self.stored.add(node.value.id)
                self.expr(single)
            else:
                for expr in evaluated(node):
                    self.expr(expr)
            for nested in nested_blocks(node):
                self.block(nested)

    def expr(self, node: ast.expr) -> None:
        kind = type(node)
        if kind is ast.Name:
            self.elsewhere.add(node.id)
            return
        flipped = _flipped(node) if kind is ast.BinOp else None
        if flipped is not None:
            self.flipped.add(flipped)
            return
        if kind is ast.Compare:
            self.compares.append(node)
            for operand in (node.left, *node.comparators):
                if type(operand) is ast.Name:
                    self.compared.add(operand.id)
                else:
                    self.expr(operand)
            return
        for child in children(node):
            self.expr(child)


def _choose(survey: _Survey, own: set[str]) -> tuple[set[str], set[str]]:
    """(variables loaded signed, hoisted flips holding signed values)."""
    signed = {
        var
        for var, values in survey.definitions.items()
        if var in own
        and var not in survey.other_writes
        and var not in survey.elsewhere
        and var not in survey.compared
        and (var in survey.flipped or var in survey.stored)
        and any(_unsigned_load(v) for v in values)
        and all(_unsigned_load(v) or _constant(v) for v in values)
    }
    hoisted = {
        var
        for var, values in survey.definitions.items()
        if var in own
        and var not in survey.other_writes
        and var not in survey.elsewhere
        and var not in survey.flipped
        and var not in survey.stored
        and all(_flipped(v) in signed for v in values)
    }
    # A hoisted flip holds the signed value only if every compare it is in can drop flips.
    changed = True
    while changed:
        changed = False
        for compare in survey.compares:
            operands = (compare.left, *compare.comparators)
            if not _all_signed(compare, signed, hoisted):
                for operand in operands:
                    if type(operand) is ast.Name and operand.id in hoisted:
                        hoisted.discard(operand.id)
                        changed = True
    return signed, hoisted


def _all_signed(compare: ast.Compare, signed: set[str], hoisted: set[str]) -> bool:
    """Whether every operand of `compare` is a flip of a signed variable, a hoisted flip or a
    constant, at least one of them not a constant."""
    if not all(type(op) in _ORDERS for op in compare.ops):
        return False
    variables = 0
    for operand in (compare.left, *compare.comparators):
        if _flipped(operand) in signed or (type(operand) is ast.Name and operand.id in hoisted):
            variables += 1
        elif not _constant(operand):
            return False
    return variables > 0


class _Rewrite:
    def __init__(self, signed: set[str], hoisted: set[str]):
        self.signed = signed
        self.hoisted = hoisted

    def block(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            single = (
                node.targets[0] if type(node) is ast.Assign and len(node.targets) == 1 else None
            )
            if type(single) is ast.Name and single.id in self.signed:
                node.value = self.signed_value(node.value)
            elif type(single) is ast.Name and single.id in self.hoisted:
                node.value = ast.Name(id=_flipped(node.value), ctx=ast.Load())
            elif (
                type(single) is ast.Subscript
                and type(single.value) is ast.Name
                and single.value.id == _UNSIGNED
                and type(node.value) is ast.Name
                and node.value.id in self.signed
            ):
                node.targets = [
                    ast.Subscript(
                        value=ast.Name(id=_SIGNED, ctx=ast.Load()),
                        slice=self.expr(single.slice),
                        ctx=ast.Store(),
                    )
                ]
            else:
                rewrite_statement(node, self.expr)
            for nested in nested_blocks(node):
                self.block(nested)

    def signed_value(self, node: ast.expr) -> ast.expr:
        if type(node) is ast.Constant:
            value = node.value
            return ast.Constant(value - (1 << 32) if value >= _SIGN else value)
        return ast.Subscript(
            value=ast.Name(id=_SIGNED, ctx=ast.Load()), slice=self.expr(node.slice), ctx=ast.Load()
        )

    def expr(self, node: ast.expr) -> ast.expr:
        """`node` rewritten (copied where it changes: lowering may share subexpressions)."""
        kind = type(node)
        if kind is ast.Name or kind is ast.Constant:
            return node
        flipped = _flipped(node)
        if flipped is not None and flipped in self.signed:
            return ast.BinOp(
                left=ast.Name(id=flipped, ctx=ast.Load()), op=ast.Add(), right=ast.Constant(_SIGN)
            )
        if kind is ast.Compare and _all_signed(node, self.signed, self.hoisted):
            return ast.Compare(
                left=self.operand(node.left),
                ops=node.ops,
                comparators=[self.operand(c) for c in node.comparators],
            )
        return with_children(node, self.expr)

    def operand(self, node: ast.expr) -> ast.expr:
        if type(node) is ast.Constant:
            return ast.Constant(node.value - _SIGN)
        flipped = _flipped(node)
        return ast.Name(id=flipped if flipped is not None else node.id, ctx=ast.Load())


def _loads_unsigned(statements: list[ast.stmt]) -> bool:
    """Whether some statement is `name = m0I[...]`."""
    for node in statements:
        if (
            type(node) is ast.Assign
            and type(node.targets[0]) is ast.Name
            and _unsigned_load(node.value)
        ):
            return True
        if any(_loads_unsigned(nested) for nested in nested_blocks(node)):
            return True
    return False


def load_signed_where_compared_signed(func: ast.FunctionDef, own: set[str]) -> None:
    """Load `func`'s variables that are only compared as signed through the signed view.

    `own`: the function's local variables other than parameters.
    """
    if not _loads_unsigned(func.body):
        return
    survey = _Survey()
    survey.block(func.body)
    signed, hoisted = _choose(survey, own)
    if signed:
        _Rewrite(signed, hoisted).block(func.body)
