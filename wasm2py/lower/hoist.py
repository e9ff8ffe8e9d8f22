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

from .exprs import names, stored_names, trap_free, walk


def _assigned(statements: list[ast.stmt]) -> set[str]:
    """Every variable written anywhere in `statements`, nested statements included."""
    written: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                written.update(stored_names(target))
        elif isinstance(node, ast.AugAssign):
            written.update(stored_names(node.target))
        for expr in _own_expressions(node):
            written.update(sub.target.id for sub in walk(expr) if type(sub) is ast.NamedExpr)
        if isinstance(node, (ast.If, ast.While)):
            written |= _assigned(node.body) | _assigned(node.orelse)
    return written


def _own_expressions(node: ast.stmt) -> list[ast.expr]:
    if isinstance(node, (ast.If, ast.While)):
        return [node.test]
    return [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]


class _Hoister:
    def __init__(self, own: set[str]):
        self.own = own  # bound on entry, and no call can change them
        self.count = 0

    def block(self, statements: list[ast.stmt]) -> None:
        result: list[ast.stmt] = []
        for node in statements:
            if isinstance(node, ast.While):
                result.extend(self.loop(node))
            result.append(node)
            if isinstance(node, (ast.If, ast.While)):
                self.block(node.body)
                self.block(node.orelse)
        statements[:] = result

    def loop(self, node: ast.While) -> list[ast.stmt]:
        """Replace `node`'s invariant expressions by temporaries; their assignments."""
        rewriter = _Rewriter(self.own - _assigned([node]), self)
        node.test = rewriter.expr(node.test)
        rewriter.statements(node.body)
        return [
            ast.Assign(targets=[ast.Name(id=temp, ctx=ast.Store())], value=expr, lineno=0)
            for temp, expr in rewriter.hoisted.values()
        ]

    def new_temp(self) -> str:
        self.count += 1
        return f"h{self.count}"


class _Rewriter:
    def __init__(self, invariant: set[str], hoister: _Hoister):
        self.invariant = invariant
        self.hoister = hoister
        self.hoisted: dict[str, tuple[str, ast.expr]] = {}  # ast.dump -> (temp, expression)

    def statements(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.If, ast.While)):
                node.test = self.expr(node.test)
                self.statements(node.body)
                self.statements(node.orelse)
            elif isinstance(node, ast.Assign):
                node.value = self.expr(node.value)
                for target in node.targets:
                    if isinstance(target, ast.Subscript):
                        target.slice = self.expr(target.slice)
            elif isinstance(node, (ast.Expr, ast.Return)) and node.value is not None:
                node.value = self.expr(node.value)

    def expr(self, node: ast.expr) -> ast.expr:
        kind = type(node)
        if kind is ast.Name or kind is ast.Constant:
            return node
        if kind is ast.BinOp and self.hoistable(node):
            key = ast.dump(node)
            if key not in self.hoisted:
                self.hoisted[key] = (self.hoister.new_temp(), node)
            return ast.Name(id=self.hoisted[key][0], ctx=ast.Load())
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, field, self.expr(value))
            elif isinstance(value, list):
                value[:] = [self.expr(v) if isinstance(v, ast.expr) else v for v in value]
        return node

    def hoistable(self, node: ast.BinOp) -> bool:
        read = names(node)
        return bool(read) and read <= self.invariant and trap_free(node)


def _bound_on_entry(func: ast.FunctionDef) -> set[str]:
    """Parameters, and the locals the prologue initializes: bound wherever a loop starts.

    (A temporary may be unbound where a loop starts, and only read on a path that binds it.)
    """
    bound = {a.arg for a in func.args.args}
    for node in func.body:
        if isinstance(node, ast.Nonlocal):
            continue
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)):
            break
        for target in node.targets:
            bound.update(stored_names(target))
    return bound


def hoist_invariants(func: ast.FunctionDef) -> ast.FunctionDef:
    """Move loop-invariant pure arithmetic out of `func`'s loops."""
    nonlocals = {n for node in func.body if isinstance(node, ast.Nonlocal) for n in node.names}
    _Hoister(_bound_on_entry(func) - nonlocals).block(func.body)
    return func
