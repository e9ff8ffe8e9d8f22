"""The range of an integer expression, from its constants, loads and masks.

An address like `((x ^ y) & 7) * 4 + 1024` cannot leave [1024, 1052], whatever x and y
hold, so it needs no `% 4294967296`. `bounds` reads such ranges off the expression; it knows
nothing about variables but the ranges it is given (lowering gives each local its Wasm
type's), so it is only as good as the masks and constants it finds.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

_MAX_DEPTH = 8  # deeper expressions are rare in addresses, and walking them is quadratic
Interval = tuple[int, int]
_NONE: Mapping[str, Interval] = {}
_LOADED = {
    "": (0, 255),  # the memory's bytes
    "H": (0, 0xFFFF),
    "h": (-0x8000, 0x7FFF),
    "I": (0, 0xFFFFFFFF),
    "i": (-0x80000000, 0x7FFFFFFF),
    "Q": (0, 0xFFFFFFFFFFFFFFFF),
}


def loaded_range(node: ast.Subscript) -> Interval | None:
    """The values a load from memory gives (`m0[a]`, `m0I[i]`), by the view's format."""
    view = node.value
    if type(view) is not ast.Name or not view.id.startswith("m"):
        return None
    rest = view.id[1:]
    digits = rest.rstrip("HhIiQd")
    if not digits.isdigit():
        return None
    return _LOADED.get(rest[len(digits) :])


def bounds(
    node: ast.expr, variables: Mapping[str, Interval] = _NONE, depth: int = 0
) -> Interval | None:
    """(smallest, largest) value `node` can have, if its constants (and the ranges given
    for `variables`) bound it, else None."""
    kind = type(node)
    if kind is ast.Name:
        return variables.get(node.id)
    if kind is ast.Constant:
        value = node.value
        return (value, value) if type(value) is int else None
    if kind is ast.Compare:
        return 0, 1
    if kind is ast.Subscript:
        return loaded_range(node)
    if depth >= _MAX_DEPTH:
        return None
    if kind is ast.IfExp:
        body = bounds(node.body, variables, depth + 1)
        orelse = bounds(node.orelse, variables, depth + 1) if body is not None else None
        return None if orelse is None else (min(body[0], orelse[0]), max(body[1], orelse[1]))
    if kind is not ast.BinOp:
        return None
    op = type(node.op)
    right = bounds(node.right, variables, depth + 1)
    if op is ast.BitAnd:
        left = bounds(node.left, variables, depth + 1)
        masks = [r[1] for r in (left, right) if r is not None and r[0] >= 0]
        return (0, min(masks)) if masks else None
    if op is ast.Mod:
        if right is None or right[0] != right[1] or right[0] <= 0:
            return None
        left = bounds(node.left, variables, depth + 1)
        if left is not None and 0 <= left[0] and left[1] < right[0]:
            return left
        return 0, right[0] - 1
    if right is None:
        return None
    left = bounds(node.left, variables, depth + 1)
    if left is None:
        return None
    if op is ast.Add:
        return left[0] + right[0], left[1] + right[1]
    if op is ast.Sub:
        return left[0] - right[1], left[1] - right[0]
    if left[0] < 0 or right[0] < 0:
        return None  # what follows holds for non-negative operands
    if op is ast.Mult:
        return left[0] * right[0], left[1] * right[1]
    if op is ast.LShift:
        return left[0] << right[0], left[1] << right[1]
    if op is ast.RShift:
        return left[0] >> right[1], left[1] >> right[0]
    if op is ast.BitOr or op is ast.BitXor:
        return 0, (1 << max(left[1], right[1]).bit_length()) - 1
    if op is ast.FloorDiv and right[0] > 0:
        return left[0] // right[1], left[1] // right[0]
    return None


def within(node: ast.expr, limit: int, variables: Mapping[str, Interval] = _NONE) -> bool:
    """Whether `node` is certainly in [0, limit)."""
    found = bounds(node, variables)
    return found is not None and found[0] >= 0 and found[1] < limit


def unreduced(node: ast.expr, variables: Mapping[str, Interval] = _NONE) -> ast.expr:
    """`node` without its outer reduction, `x % m` or `x & (2**k - 1)`, where x is in range
    anyway: `((x & 7) + 256) % 4294967296` is `(x & 7) + 256`, and an i32 local's
    `(x >> 24) & 255` is `x >> 24`."""
    if type(node) is ast.BinOp and type(node.right) is ast.Constant:
        op, constant = type(node.op), node.right.value
        if type(constant) is not int or constant <= 0:
            return node
        if op is ast.Mod:
            limit = constant  # x % m is x for x in [0, m)
        elif op is ast.BitAnd and constant & (constant + 1) == 0:
            limit = constant + 1  # x & (2**k - 1) is x for x in [0, 2**k)
        else:
            return node
        if within(node.left, limit, variables):
            return node.left
    return node
