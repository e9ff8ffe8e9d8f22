"""Loop-invariant arithmetic moves out of loops.

A Wasm loop often recomputes the same value on every iteration: the sign flip of a bound that
does not change in a signed compare (`l0 ^ 2147483648 <= l1 ^ 2147483648`), or a base address
(`l2 + 16 + (l1 << 2)`). An expression that reads only the function's own variables, none of
them written in the loop, and that can neither trap nor have an effect, is computed once into
a temporary just before the loop. Outer loops go first, so a value invariant in a whole nest
leaves all of it.
"""

from __future__ import annotations

import ast

from .exprs import leading_constants, nested_blocks, stored_names, trap_free


def _written(statements: list[ast.stmt], loops: dict[int, set[str]]) -> set[str]:
    """Every variable written anywhere in `statements`; records each loop's own set in
    `loops` (by id), so a nest is walked once. (Lowering writes variables only with
    assignment statements: generated code has no assignment expressions.)"""
    written: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                written.update(stored_names(target))
        else:
            inner = set().union(*(_written(b, loops) for b in nested_blocks(node)))
            if isinstance(node, ast.While):
                loops[id(node)] = inner
            written |= inner
    return written


_NOT_INVARIANT = None
_PREFIX = "h"


def is_hoisted(name: str) -> bool:
    """Whether `name` is a temporary this pass made. Unlike a variable holding a Wasm value,
    it may hold a partial sum not yet wrapped to 32 or 64 bits."""
    return name.startswith(_PREFIX) and name[len(_PREFIX) :].isdigit()


class _Hoister:
    def __init__(self, own: set[str], loops: dict[int, set[str]]):
        self.own = own  # bound on entry, and no call can change them
        self.loops = loops  # id of a While -> the variables written in it
        self.count = 0

    def block(self, statements: list[ast.stmt], outer: frozenset[str] | None = None) -> None:
        """`outer`: what is invariant in the innermost loop around `statements`, if any."""
        result: list[ast.stmt] = []
        for node in statements:
            inner = outer
            if isinstance(node, ast.While):
                inner = frozenset(self.own - self.loops[id(node)])
                # The outer loop's rewrite already took out every expression invariant
                # over the same variables: a second walk would find nothing.
                if inner != outer:
                    result.extend(self.loop(node, inner))
            result.append(node)
            for nested in nested_blocks(node):
                self.block(nested, inner)
        statements[:] = result

    def loop(self, node: ast.While, invariant: frozenset[str]) -> list[ast.stmt]:
        """Replace `node`'s invariant expressions by temporaries; their assignments."""
        rewriter = _Rewriter(invariant, self)
        node.test = rewriter.top(node.test)
        rewriter.statements(node.body)
        return [
            ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())], value=expr, lineno=0)
            for temp, expr in rewriter.hoisted.values()
        ]

    def new_temp(self) -> str:
        self.count += 1
        return f"{_PREFIX}{self.count}"


class _Rewriter:
    """Bottom-up over each expression: a node is invariant when its operation can neither
    trap nor have an effect and its operands are invariant; the largest invariant operations
    (those with an operand that is a variable) become temporaries."""

    def __init__(self, invariant: frozenset[str], hoister: _Hoister):
        self.invariant = invariant
        self.hoister = hoister
        self.hoisted: dict[tuple, tuple[str, ast.expr]] = {}  # _key -> (temp, expression)

    def statements(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.If, ast.While)):
                node.test = self.top(node.test)
            for nested in nested_blocks(node):
                self.statements(nested)
            if isinstance(node, ast.Assign):
                node.value = self.top(node.value)
                for target in node.targets:
                    if isinstance(target, ast.Subscript):
                        target.slice = self.top(target.slice)
            elif isinstance(node, (ast.Expr, ast.Return)) and node.value is not None:
                node.value = self.top(node.value)

    def top(self, node: ast.expr) -> ast.expr:
        kind = type(node)
        if kind is ast.Name or kind is ast.Constant:
            return node  # a leaf: nothing inside to rewrite, and no operation to hoist
        return self.settle(node, self.visit(node))

    def settle(self, node: ast.expr, reads: bool | None) -> ast.expr:
        """`node`, or a temporary holding it if it is an invariant operation on variables."""
        if reads and type(node) is ast.BinOp:
            key = _key(node)
            if key not in self.hoisted:
                self.hoisted[key] = (self.hoister.new_temp(), node)
            return ast.Name(id=self.hoisted[key][0], ctx=ast.Load())
        return node

    def visit(self, node: ast.expr) -> bool | None:
        """Whether an invariant `node` reads a variable (only those are worth a temporary), or
        None if it is not invariant; rewrites the invariant parts of a node that is not."""
        kind = type(node)
        if kind is ast.Constant:
            return False
        if kind is ast.Name:
            return True if node.id in self.invariant else _NOT_INVARIANT
        if kind is ast.BinOp:
            left, right = self.visit(node.left), self.visit(node.right)
            if left is not None and right is not None and _harmless(node):
                return left or right
            node.left = self.settle(node.left, left)
            node.right = self.settle(node.right, right)
            return _NOT_INVARIANT
        # No ast.iter_fields: its generator costs more than the visit on these small nodes.
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, ast.expr):
                setattr(node, field, self.top(value))
            elif type(value) is list and value and isinstance(value[0], ast.expr):
                value[:] = [self.top(v) for v in value]
        return _NOT_INVARIANT


def _key(node: ast.expr) -> tuple | str:
    """Equal for invariant expressions (of BinOp, Name and Constant) that compute the same
    thing: ast.dump's text, which is several times slower to build."""
    kind = type(node)
    if kind is ast.Name:
        return node.id
    if kind is ast.Constant:
        # The type too: 1, 1.0 and True are equal keys otherwise; repr tells -0.0 from 0.0.
        return (type(node.value), repr(node.value))
    return (type(node.op), _key(node.left), _key(node.right))


def _harmless(node: ast.BinOp) -> bool:
    """The operation itself (operands aside) can neither trap nor have an effect."""
    return trap_free(ast.BinOp(left=_ZERO, op=node.op, right=_constant_or_zero(node.right)))


_ZERO = ast.Constant(0)


def _constant_or_zero(node: ast.expr) -> ast.expr:
    return node if isinstance(node, ast.Constant) else _ZERO


def hoist_invariants(func: ast.FunctionDef) -> ast.FunctionDef:
    """Move loop-invariant pure arithmetic out of `func`'s loops."""
    loops: dict[int, set[str]] = {}
    _written(func.body, loops)
    if loops:
        # Bound wherever a loop starts: the parameters and the prologue's locals. (A temporary
        # may be unbound where a loop starts, and only read on a path that binds it.)
        prologue, nonlocals = leading_constants(func)
        bound = {a.arg for a in func.args.args} | set(prologue)
        _Hoister(bound - nonlocals, loops).block(func.body)
    return func
