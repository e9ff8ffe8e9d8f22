"""A counted loop that only reads memory walks strided slices instead of indexing.

A dot product's loop, once versioned (lower/versioning.py), still pays per element for an
index sum and a subscript of a typed view, and per iteration for each pointer's step:

    l15 = m0d[l9 + 1] * m0d[l8 + l10] + (m0d[l9] * m0d[l8] + l15)
    l8 = l8 + l5
    l9 = l9 + 2

With its trip count T known on entry, every load of a pointer stepped by a positive amount
is one element of a strided slice, and the loop becomes

    for a, b, c, d in zip(m0d[l9 + 1:l9 + 1 + T * 2:2], m0d[l8 + l10:...:l5], ...):
        l15 = a * b + (c * d + l15)
    l8 = l8 + T * l5
    l9 = l9 + T * 2

Only loops that write no memory and call nothing that could qualify: reading every element
first changes nothing then. Each slice must lie inside its view, or the loop as it was runs
instead (and traps where it should). Slicing needs memoryviews (CPython's typed views); the
test of `STRIDED_VIEWS` keeps the indexing loop on other runtimes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from .env import is_memory_data, is_memory_view
from .exprs import clone, names, no_reentry, with_children
from .stack import assign, name

FLAG = "STRIDED_VIEWS"  # wasm2py_runtime.memory: whether typed views take extended slices
FILLER = "strided_values"  # wasm2py_runtime.memory: copies of a value in a view's format
TRIPS = "_trips"  # the trip count, bound before the test (no other generated name starts _t)


def _op(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.expr:
    if type(right) is ast.Constant and right.value == 0:
        return left
    return ast.BinOp(left=left, op=op, right=right)


def _times(trips: ast.expr, step: ast.expr) -> ast.expr:
    if type(step) is ast.Constant and step.value == 1:
        return trips
    return ast.BinOp(left=trips, op=ast.Mult(), right=step)


class _Slices:
    """The loads of one iteration, as slices: (view, start) -> the name of its element."""

    def __init__(self, steps: dict[str, ast.expr], invariant: Callable[[ast.expr], bool]):
        self.steps = steps  # pointer -> its (positive) step
        self.invariant = invariant
        self.stepped: set[str] = set()  # pointers already stepped in this iteration
        # `view[start]` -> (element name, view, start, pointer)
        self.found: dict[str, tuple[str, str, ast.expr, str]] = {}
        self.failed = False

    def start(self, index: ast.expr) -> tuple[str, ast.expr] | None:
        """(pointer, index on the first iteration) if `index` is p, p + k or p - c."""
        if type(index) is ast.Name:
            pointer, extra, op = index.id, None, ast.Add
        elif type(index) is ast.BinOp and type(index.left) is ast.Name:
            pointer, extra, op = index.left.id, index.right, type(index.op)
            if op not in (ast.Add, ast.Sub) or not self.invariant(extra):
                return None
            if op is ast.Sub and type(extra) is not ast.Constant:
                return None
        else:
            return None
        if pointer not in self.steps:
            return None
        start: ast.expr = name(pointer)
        if pointer in self.stepped:  # read after its step: one step ahead
            start = _op(start, ast.Add(), self.steps[pointer])
        if extra is not None:
            start = _op(start, op(), extra)
        return pointer, start

    def expr(self, node: ast.expr) -> ast.expr:
        if (
            type(node) is ast.Subscript
            and type(node.value) is ast.Name
            and is_memory_data(node.value.id)
        ):
            found = self.start(node.slice)
            if found is not None:
                pointer, start = found
                view = node.value.id
                key = f"{view}[{ast.unparse(start)}]"
                if key not in self.found:
                    self.found[key] = (f"e{len(self.found)}", view, start, pointer)
                return name(self.found[key][0])
            if names(node.slice) & self.steps.keys():
                self.failed = True  # a pointer read some other way
        return with_children(node, self.expr)


def strided_loop(
    fast: ast.While,
    stepped: dict[str, tuple[int, ast.expr, int]],
    invariant: Callable[[ast.expr], bool],
    trips: ast.expr,
) -> list[ast.stmt] | None:
    """Statements that run `fast`, a versioned loop without wraps whose steps run exactly
    `trips` times, as slices where every slice lies in its view, and as `fast` elsewhere;
    None if it cannot. A loop that only reads becomes a `for` over the slices it reads; one
    that only stores a value the loop does not change, a slice assignment."""
    body = fast.body[:-2]
    steps: dict[str, ast.expr] = {}
    down: dict[str, ast.expr] = {}
    for var, (sign, step, _) in stepped.items():
        (steps if sign > 0 else down)[var] = step
    if any(not _step_of_write(body, var) for var in stepped):
        return None
    slices = _Slices(steps, invariant)
    kept: list[ast.stmt] = []
    store: tuple[str, ast.expr, ast.expr] | None = None  # (view, index, value)
    for node in body:
        if type(node) is not ast.Assign or len(node.targets) != 1:
            return None
        target = node.targets[0]
        if not no_reentry(node.value):
            return None
        if type(target) is ast.Subscript:
            if store is not None or not _unchanged(node.value, invariant):
                return None  # stores in a different order would need them all alike
            found = slices.start(target.slice)
            if found is None or type(target.value) is not ast.Name:
                return None
            if not is_memory_data(target.value.id):
                return None
            store = target.value.id, found[1], node.value
            slices.found[""] = ("", target.value.id, found[1], found[0])
            continue
        if type(target) is not ast.Name:
            return None
        var = target.id
        if var in stepped:
            slices.stepped.add(var)
            continue
        value = slices.expr(node.value)
        if slices.failed or names(value) & stepped.keys():
            return None  # the loop reads a counter or pointer as a value
        kept.append(ast.Assign(targets=[target], value=value, lineno=0))
    if not slices.found or (store is not None and len(slices.found) > 1) or (store and kept):
        return None
    trips_name = name(TRIPS)
    conditions: list[ast.expr] = []
    if any(is_memory_view(view) for _, view, _, _ in slices.found.values()):
        conditions.append(name(FLAG))
    positive: set[str] = set()
    # (view, pointer, start less its constant) -> the largest constant: the slice that ends
    # last, whose end alone needs testing against the view's length
    ends: dict[tuple[str, str, str], tuple[int, ast.expr]] = {}
    lowest: dict[tuple[str, str, str], tuple[int, ast.expr]] = {}  # and the one starting first
    parts: list[ast.expr] = []
    for _, view, start, pointer in slices.found.values():
        step = steps[pointer]
        if type(step) is not ast.Constant and pointer not in positive:
            positive.add(pointer)
            conditions.append(ast.Compare(left=step, ops=[ast.Gt()], comparators=[ast.Constant(0)]))
        stop = _op(start, ast.Add(), _times(trips_name, step))
        base, offset = _split_constant(start)
        key = (view, pointer, ast.unparse(base))
        if offset < 0 and (key not in lowest or offset < lowest[key][0]):
            lowest[key] = offset, start
        if key not in ends or ends[key][0] < offset:
            ends[key] = offset, stop
        bounds = ast.Slice(lower=start, upper=stop, step=None if _is_one(step) else step)
        parts.append(ast.Subscript(value=name(view), slice=bounds, ctx=ast.Load()))
    for _, start in lowest.values():  # `p - c`: versioning tested it; a slice would wrap
        conditions.append(ast.Compare(left=start, ops=[ast.GtE()], comparators=[ast.Constant(0)]))
    for (view, _, _), (_, stop) in ends.items():
        length = ast.Call(func=name("len"), args=[name(view)], keywords=[])
        conditions.append(ast.Compare(left=stop, ops=[ast.LtE()], comparators=[length]))
    if store is None:
        walk = _reading(parts, [e[0] for e in slices.found.values()], kept)
    else:
        walk = _filling(parts[0], store[0], store[2], trips_name)
    finals = [
        assign(
            [var],
            [_op(name(var), ast.Add() if var in steps else ast.Sub(), _times(trips_name, step))],
        )
        for var, step in (*steps.items(), *down.items())
    ]
    test = ast.BoolOp(op=ast.And(), values=conditions) if len(conditions) > 1 else conditions[0]
    return [
        assign([TRIPS], [clone(trips)]),
        ast.If(test=test, body=[walk, *finals], orelse=[fast]),
    ]


def _reading(parts: list[ast.expr], elements: list[str], body: list[ast.stmt]) -> ast.For:
    """`for e0, e1 in zip(part0, part1): body`."""
    targets = [ast.Name(id=e, ctx=ast.Store()) for e in elements]
    if len(targets) == 1:
        target, iterable = targets[0], parts[0]
    else:
        target = ast.Tuple(elts=targets, ctx=ast.Store())
        iterable = ast.Call(func=name("zip"), args=parts, keywords=[])
    return ast.For(
        target=target,
        iter=iterable,
        body=body or [ast.Pass()],
        orelse=[],
        lineno=0,
        type_comment=None,
    )


def _filling(part: ast.Subscript, view: str, value: ast.expr, count: ast.expr) -> ast.stmt:
    """`part = <count copies of value>`, in the view's format."""
    if is_memory_view(view):
        call = ast.Call(func=name(FILLER), args=[name(view), value, count], keywords=[])
        copies: ast.expr = call
    else:
        if type(value) is ast.Constant:
            one: ast.expr = ast.Constant(bytes((value.value,)))
        else:
            items = ast.Tuple(elts=[value], ctx=ast.Load())
            one = ast.Call(func=name("bytes"), args=[items], keywords=[])
        copies = ast.BinOp(left=one, op=ast.Mult(), right=count)
    part.ctx = ast.Store()
    return ast.Assign(targets=[part], value=copies, lineno=0)


def _split_constant(node: ast.expr) -> tuple[ast.expr, int]:
    """(x, c) if `node` is x + c or x - c with c an int constant, else (node, 0)."""
    if (
        type(node) is ast.BinOp
        and type(node.op) in (ast.Add, ast.Sub)
        and type(node.right) is ast.Constant
        and type(node.right.value) is int
    ):
        sign = 1 if type(node.op) is ast.Add else -1
        return node.left, sign * node.right.value
    return node, 0


def _unchanged(value: ast.expr, invariant: Callable[[ast.expr], bool]) -> bool:
    """Whether the loop stores the same `value` every time: an invariant, or a negative
    constant (`-0.5` is a negation of a constant)."""
    if type(value) is ast.UnaryOp and type(value.op) is ast.USub:
        value = value.operand
        return type(value) is ast.Constant and type(value.value) in (int, float)
    return invariant(value) or (type(value) is ast.Constant and type(value.value) is float)


def _is_one(node: ast.expr) -> bool:
    return type(node) is ast.Constant and node.value == 1


def _step_of(value: ast.expr, var: str) -> ast.expr | None:
    """k if `value` is var + k or var - k, unwrapped."""
    if (
        type(value) is ast.BinOp
        and type(value.op) in (ast.Add, ast.Sub)
        and type(value.left) is ast.Name
        and value.left.id == var
    ):
        return value.right
    return None


def _step_of_write(body: list[ast.stmt], var: str) -> bool:
    """Whether the loop writes `var` once, by its step."""
    writes = [
        node
        for node in body
        if type(node) is ast.Assign
        and type(node.targets[0]) is ast.Name
        and node.targets[0].id == var
    ]
    return len(writes) == 1 and _step_of(writes[0].value, var) is not None
