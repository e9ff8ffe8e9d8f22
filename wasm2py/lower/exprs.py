"""Facts about generated expressions that the AST passes share: effects, traps, names.

Generated expressions are built from a few node types (see `children`); these helpers walk
them without ast.walk's generic field lookup, which dominates a pass over a large function.

The passes rely on one property of lowering: a variable is only ever written by an assignment
statement. Generated code has no assignment expressions (`:=`); tests/test_lowering.py checks.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import wasm2py_runtime.numeric as runtime_numeric

from .env import is_memory_data
from .memory import LOADERS
from .numeric import BUILTINS

# Calls that cannot re-enter generated code (so cannot grow memory or change a global).
_PURE_CALLS = frozenset(runtime_numeric.__all__) | LOADERS | BUILTINS | {"len"}
_TRAP_FREE_OPS = (
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.BitAnd,
    ast.BitOr,
    ast.BitXor,
    ast.LShift,
    ast.RShift,
)


def children(node: ast.expr) -> tuple:
    """The sub-expressions of an expression, fast for the node types lowering produces."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant:
        return ()
    if kind is ast.BinOp:
        return (node.left, node.right)
    if kind is ast.Call:
        if not node.keywords:  # generated calls have none: no generator for them
            return (node.func, *node.args)
        return (node.func, *node.args, *(keyword.value for keyword in node.keywords))
    if kind is ast.Subscript:
        return (node.value, node.slice)
    if kind is ast.Compare:
        return (node.left, *node.comparators)
    if kind is ast.IfExp:
        return (node.test, node.body, node.orelse)
    if kind is ast.BoolOp or kind is ast.Tuple:
        return tuple(node.values if kind is ast.BoolOp else node.elts)
    if kind is ast.UnaryOp:
        return (node.operand,)
    if kind is ast.Attribute:
        return (node.value,)
    if kind is ast.NamedExpr:
        return (node.target, node.value)
    return tuple(ast.iter_child_nodes(node))


def walk(node: ast.expr):
    """`node` and every expression inside it."""
    pending = [node]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(children(node))


def no_reentry(node: ast.expr) -> bool:
    """Evaluating `node` cannot run generated code (nor grow memory or change globals)."""
    return all(
        isinstance(sub.func, ast.Name) and sub.func.id in _PURE_CALLS
        for sub in walk(node)
        if type(sub) is ast.Call
    )


def names(*nodes: ast.expr) -> set[str]:
    """The variables the expressions read."""
    found: set[str] = set()
    pending = list(nodes)
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is ast.Name:
            found.add(node.id)
        elif kind is not ast.Constant:
            pending.extend(children(node))
    return found


def trap_free(node: ast.expr) -> bool:
    """Evaluating `node` can neither trap nor have an effect."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, _TRAP_FREE_OPS):
            return trap_free(node.left) and trap_free(node.right)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and isinstance(node.right, ast.Constant):
            return bool(node.right.value) and trap_free(node.left)
        return False
    if isinstance(node, ast.UnaryOp):
        return trap_free(node.operand)
    if isinstance(node, ast.Compare):
        return trap_free(node.left) and all(trap_free(c) for c in node.comparators)
    if isinstance(node, ast.BoolOp):
        return all(trap_free(v) for v in node.values)
    if isinstance(node, ast.IfExp):
        return trap_free(node.test) and trap_free(node.body) and trap_free(node.orelse)
    return False


def only_memory_traps(node: ast.expr) -> bool:
    """Evaluating `node` has no effect, and can fail only as an out-of-bounds memory access.
    Two such expressions can be evaluated in either order: if either fails, the trap is the
    same."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant:
        return True
    if kind is ast.Subscript:
        memory = node.value
        if type(memory) is ast.Name and is_memory_data(memory.id):
            return only_memory_traps(node.slice)
        # `load_u32(m0, addr)[0]`: a struct accessor's result
        return (
            type(memory) is ast.Call
            and type(node.slice) is ast.Constant
            and only_memory_traps(memory)
        )
    if kind is ast.Call:
        return (
            type(node.func) is ast.Name
            and node.func.id in LOADERS
            and not node.keywords
            and all(only_memory_traps(a) for a in node.args)
        )
    if kind is ast.BinOp:
        op = type(node.op)
        if op in _TRAP_FREE_OPS or (
            op in (ast.FloorDiv, ast.Mod) and type(node.right) is ast.Constant and node.right.value
        ):
            return only_memory_traps(node.left) and only_memory_traps(node.right)
        return False
    if kind in (ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp):
        return all(only_memory_traps(child) for child in children(node))
    return False


def with_children(node: ast.expr, rewrite: Callable[[ast.expr], ast.expr]) -> ast.expr:
    """`node` with each sub-expression replaced by `rewrite(sub)`: a copy if any changed,
    never changed in place (lowering may share a subexpression between statements)."""
    changes = {}
    # Fields and a shallow copy by hand: ast.iter_fields and copy.copy cost more than the
    # rewrite of these small nodes.
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, ast.expr):
            new = rewrite(value)
            if new is not value:
                changes[field] = new
        elif type(value) is list:
            new_list = [rewrite(v) if isinstance(v, ast.expr) else v for v in value]
            if any(a is not b for a, b in zip(new_list, value)):
                changes[field] = new_list
    if not changes:
        return node
    kind = type(node)
    copied = kind.__new__(kind)
    copied.__dict__.update(node.__dict__, **changes)
    return copied


def rewrite_statement(node: ast.stmt, rewrite: Callable[[ast.expr], ast.expr]) -> None:
    """Replace each expression `node` holds itself (not those of statements nested in it,
    nor a target's name) by `rewrite(expression)`."""
    for field, value in ast.iter_fields(node):
        if isinstance(value, ast.expr):
            setattr(node, field, rewrite(value))
        elif type(value) is list and value and isinstance(value[0], ast.expr):
            value[:] = [rewrite(v) for v in value]


def sign_flipped(node: ast.expr) -> ast.expr | None:
    """x if `node` is `x ^ 2147483648` with x a variable or a constant: an i32 moved to the
    order of its signed value, as signed compares do."""
    if (
        type(node) is ast.BinOp
        and type(node.op) is ast.BitXor
        and type(node.right) is ast.Constant
        and node.right.value == 1 << 31
        and type(node.left) in (ast.Name, ast.Constant)
    ):
        return node.left
    return None


def clone(node):
    """A deep copy of an AST node (or list of them), several times faster than
    copy.deepcopy: fields only, no memo (a node shared within `node` is copied twice)."""
    if type(node) is list:
        return [clone(item) for item in node]
    if not isinstance(node, ast.AST):
        return node
    new = node.__class__.__new__(node.__class__)
    for field, value in node.__dict__.items():  # fields, and positions where set
        setattr(new, field, clone(value))
    return new


def stored_names(target: ast.expr) -> list[str]:
    """The variables an assignment target writes."""
    if type(target) is ast.Name:
        return [target.id]
    if type(target) is ast.Tuple:
        return [n for t in target.elts for n in stored_names(t)]
    return []


def evaluated(node: ast.stmt) -> list[ast.expr]:
    """The expressions a statement evaluates itself, not those of statements inside it.

    Targets that are variables (or tuples of them) are written, not evaluated.
    """
    kind = type(node)
    if kind is ast.Assign:
        targets = node.targets
        if len(targets) == 1 and type(targets[0]) is ast.Name:
            return [node.value]  # the usual `name = value`, without the generator below
        return [node.value, *(t for t in targets if stored_names(t) == [])]
    if kind is ast.If or kind is ast.While:
        return [node.test]
    if kind is ast.For:
        return [node.iter]
    if kind is ast.Expr or kind is ast.Return:
        return [] if node.value is None else [node.value]
    if kind is ast.Raise:
        return [] if node.exc is None else [node.exc]
    return [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]


def nested_blocks(node: ast.stmt) -> tuple[list[ast.stmt], ...]:
    """The statement lists inside a compound statement (if, while, for, try); none for
    others. (Every pass asks this of every statement: tuples, one shared when empty.)"""
    kind = type(node)
    if kind is ast.If or kind is ast.While or kind is ast.For:
        return (node.body, node.orelse)
    if kind is ast.Try:
        return (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody)
    return ()


def leading_constants(func: ast.FunctionDef) -> tuple[dict[str, int], set[str]]:
    """The run of `name = constant` assignments that starts a function (the prologue's initial
    values, and any that follow them at once): each name's first position in `func.body`; and
    the names its `nonlocal` statements declare (globals)."""
    first: dict[str, int] = {}
    nonlocals: set[str] = set()
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
        first.setdefault(node.targets[0].id, k)
    return first, nonlocals
