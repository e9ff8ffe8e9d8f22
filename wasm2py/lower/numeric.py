"""Numeric operators: the table's expression template, with the operands substituted in.

`i32.mul` has the template `(a * b) & 0xFFFFFFFF`; lowering parses it once and replaces `a` and
`b` by the operand expressions. Templates calling a helper that can trap make impure entries.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from functools import cache

from ..module import Instr
from ..opcodes import BY_NAME
from .bounds import unreduced
from .stack import Entry

# Helpers that raise a Trap for some operands: their results must keep their place in order.
TRAPPING = frozenset(
    {
        *(f"{t}_{op}" for t in ("i32", "i64") for op in ("div_s", "div_u", "rem_s", "rem_u")),
        *(f"{t}_trunc_{s}" for t in ("i32", "i64") for s in ("s", "u")),
    }
)
OPERANDS = ("a", "b")
BUILTINS = frozenset({"float", "int", "bin"})  # the builtins templates call


@cache
def parse_template(template: str) -> tuple[ast.expr, dict[str, int], bool]:
    """The template's expression, how often each operand occurs, and whether it can trap.

    An operand occurring more than once is spilled unless it is a name or a constant, even when
    it occurs in both branches of a conditional (`a / b if b else fdiv(a, b)`): copying an
    expression there would double the source at each level of nesting.
    """
    tree = ast.parse(template, mode="eval").body
    uses = {o: 0 for o in OPERANDS}
    traps = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in uses:
                uses[node.id] += 1
            elif node.id in TRAPPING:
                traps = True
    return tree, uses, traps


def helper_names(templates) -> set[str]:
    """The runtime helpers a set of templates calls (for the generated module's imports)."""
    names = set()
    for t in templates:
        for node in ast.walk(parse_template(t)[0]):
            if isinstance(node, ast.Name) and node.id not in OPERANDS and node.id not in BUILTINS:
                names.add(node.id)
    return names


def _helpers() -> dict:
    import wasm2py_runtime.numeric as numeric

    return {name: getattr(numeric, name) for name in numeric.__all__}


_HELPERS = _helpers()
_FOLDABLE_NAMES = frozenset(_HELPERS) | BUILTINS


def fold(expr: ast.expr) -> ast.expr:
    """`expr` computed now if it reads no variable, e.g. `(3 + 4) & 0xFF` becomes `7`.

    Results that trap, or are NaN (whose bits a literal cannot hold), stay as they are.
    """
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and node.id not in _FOLDABLE_NAMES:
            return expr
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return expr
    try:
        code = compile(ast.fix_missing_locations(ast.Expression(expr)), "<fold>", "eval")
        value = eval(code, dict(_HELPERS))
    except Exception:  # a trap, or anything else: leave it to run time
        return expr
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value != value:
        return expr
    if not isinstance(value, (int, float)):
        return expr
    return ast.Constant(value)


def _builder_source(node: ast.AST) -> str:
    """Python source that constructs a fresh copy of `node`, with operands `a`/`b` inserted."""
    if isinstance(node, ast.Name) and node.id in OPERANDS:
        return node.id
    if isinstance(node, ast.AST):
        fields = ", ".join(
            f"{field}={_builder_source(value)}"
            for field, value in ast.iter_fields(node)
            if value is not None or field == "kind"
        )
        return f"ast.{type(node).__name__}({fields})"
    if isinstance(node, list):
        return "[" + ", ".join(_builder_source(item) for item in node) + "]"
    return repr(node)


_INT_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Mod: operator.mod,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}


def fold_template_constants(node: ast.expr, operands: tuple) -> ast.expr:
    """Fold integer operations between constants in a template's own nodes.

    `(a ^ 0x80000000) < (b ^ 0x80000000)` with `b` the constant 1 has `1 ^ 0x80000000` computed
    now. Operand subtrees (already folded when they were built) are not entered. A conditional
    on a constant is its branch: `a / 2.0 if 2.0 else fdiv(a, 2.0)` is `a / 2.0`.
    """
    # `in` compares AST nodes by identity (they define no equality), without a generator.
    is_operand = node in operands
    if isinstance(node, ast.IfExp) and not is_operand:
        node.test = fold_template_constants(node.test, operands)
        if isinstance(node.test, ast.Constant):
            return fold_template_constants(node.body if node.test.value else node.orelse, operands)
        return node
    if is_operand or not isinstance(node, ast.BinOp):
        if isinstance(node, (ast.Compare, ast.Call)):
            for i, arg in enumerate(getattr(node, "comparators", None) or node.args):
                folded = fold_template_constants(arg, operands)
                (node.comparators if isinstance(node, ast.Compare) else node.args)[i] = folded
            if isinstance(node, ast.Compare):
                node.left = fold_template_constants(node.left, operands)
        return node
    node.left = fold_template_constants(node.left, operands)
    node.right = fold_template_constants(node.right, operands)
    left, right = node.left, node.right
    op = _INT_OPS.get(type(node.op))
    if (
        op is not None
        and isinstance(left, ast.Constant)
        and isinstance(right, ast.Constant)
        and type(left.value) is int
        and type(right.value) is int
        and not (op is operator.lshift and right.value > 64)
        and not (op is operator.mod and right.value == 0)
    ):
        return ast.Constant(op(left.value, right.value))
    return node


@cache
def template_builder(template: str) -> Callable[..., ast.expr]:
    """A function `(a, b) -> ast.expr` building the template's tree around the operands.

    Instantiating templates is the translator's inner loop; generated constructors are many
    times faster than copying the parsed template.
    """
    body = _builder_source(parse_template(template)[0])
    return eval(f"lambda a=None, b=None: {body}", {"ast": ast})


# Operand values that leave the other operand unchanged: x + 0, x * 1, x & 0xFFFFFFFF, ...
# (for shifts and rotates, a count that is 0 modulo the width).
_IDENTITY_RIGHT = {
    **{f"{t}.{op}": 0 for t in ("i32", "i64") for op in ("add", "sub", "or", "xor")},
    **{f"{t}.{op}": 1 for t in ("i32", "i64") for op in ("mul", "div_u")},
    "i32.and": 0xFFFFFFFF,
    "i64.and": 0xFFFFFFFFFFFFFFFF,
}
_IDENTITY_LEFT = {
    name: value
    for name, value in _IDENTITY_RIGHT.items()
    if not name.endswith(("sub", "div_u"))  # not commutative
}
_SHIFTS = {
    f"{t}.{op}": w
    for t, w in (("i32", 32), ("i64", 64))
    for op in ("shl", "shr_u", "shr_s", "rotl", "rotr")
}
# Unsigned division by a constant other than zero cannot trap: Python's operators suffice.
_BY_NONZERO_CONSTANT = {
    f"{t}.{op}": template
    for t in ("i32", "i64")
    for op, template in (("div_u", "a // b"), ("rem_u", "a % b"))
}


_MASKS = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF}
_SIGNED_DIVISIONS = frozenset(f"{t}.{op}" for t in ("i32", "i64") for op in ("div_s", "rem_s"))


_ROTATES = frozenset(f"{t}.{op}" for t in ("i32", "i64") for op in ("rotl", "rotr"))


def _rotate_by_constant(name: str, count: int) -> str:
    """A rotate by a constant as shifts: the helper's call costs more than spilling the
    operand to a temporary to read it twice."""
    width = _SHIFTS[name]
    left = count % width if name.endswith("rotl") else -count % width
    return f"a << {left} & {_MASKS[name[:3]]} | a >> {width - left}"


def _signed_by_constant(name: str, divisor: int) -> str | None:
    """Signed division or remainder by a constant that cannot trap (not 0, not -1), inline:
    on the magnitudes, with the sign put back (Wasm truncates towards zero, and a remainder
    takes the dividend's sign)."""
    mask = _MASKS[name[:3]]
    modulus = mask + 1
    half = modulus >> 1
    if divisor in (0, mask):
        return None
    negative = divisor >= half
    magnitude = modulus - divisor if negative else divisor
    op = "//" if name.endswith("div_s") else "%"
    # The dividend's magnitude is a (a >= 0) or modulus - a (a < 0); the result is negative
    # when exactly one of dividend and divisor is (a remainder: when the dividend is).
    plain = f"a {op} {magnitude}"
    flipped = f"({modulus} - a) {op} {magnitude}"
    if op == "%" or not negative:
        return f"{plain} if a < {half} else -({flipped}) & {mask}"
    return f"-({plain}) & {mask} if a < {half} else {flipped}"


# Operators whose result is reduced modulo 2**width anyway: an operand's own reduction (`& M`,
# or `% 2**width` from add and sub) can go, as (x & M) + y and x + y agree modulo 2**width.
# mul only for i32, so that products of unreduced i64 values do not grow into slow big integers.
_WRAPPING = frozenset({"i32.add", "i32.sub", "i32.mul", "i64.add", "i64.sub"})
_WRAPPING_LEFT = frozenset({"i32.shl", "i64.shl"})
_ANDS = frozenset({"i32.and", "i64.and"})
# add and sub reduce with `% 2**width`, fast for a dividend below about 2**(width + 1). Once an
# operand lost its `& M` (a product, a shift, a wrapped i64) it may be far larger, and `& M`
# is much faster than `%` there.
_MASKED = {
    f"{t}.{op}": f"(a {sign} b) & {hex(mask)}"
    for t, mask in _MASKS.items()
    for op, sign in (("add", "+"), ("sub", "-"))
}


def _strip_mask(expr: ast.expr, mask: int) -> tuple[ast.expr, bool]:
    """`expr` without its reduction modulo mask + 1, and whether that was a (large) `& mask`."""
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.right, ast.Constant)
        and type(expr.right.value) is int
    ):
        if isinstance(expr.op, ast.BitAnd) and expr.right.value == mask:
            return expr.left, True
        if isinstance(expr.op, ast.Mod) and expr.right.value == mask + 1:
            return expr.left, False
    return expr, False


def _unreduced(name: str, operands: list[Entry]) -> tuple[list[Entry], bool]:
    """Operands with their outermost reduction removed where the operator reduces anyway, and
    whether one of them lost an `& mask` (and so may be large)."""
    if name in _WRAPPING:
        positions = (0, 1)
    elif name in _WRAPPING_LEFT:
        positions = (0,)
    elif name in _ANDS and _constant(operands[1]) is not None:
        positions = (0,)  # a mask below 2**width: `(x % 2**32) & m` is `x & m`
    elif name in _ANDS and _constant(operands[0]) is not None:
        positions = (1,)
    else:
        return operands, False
    mask = _MASKS[name[:3]]
    large = False
    stripped = list(operands)
    for k in positions:
        expr, was_masked = _strip_mask(operands[k].expr, mask)
        if expr is not operands[k].expr:
            stripped[k] = operands[k]._replace(expr=expr)
            large |= was_masked
    return stripped, large


_HALF = {"i32": 0x80000000, "i64": 0x8000000000000000}
# `x + 0xFFFFFFFF` is `x - 1`: small constants keep CPython on its fast small-int paths.
_NEGATED = {"i32.add": "i32.sub", "i64.add": "i64.sub", "i32.sub": "i32.add", "i64.sub": "i64.add"}


def _signed_vs_constant(name: str, c: int) -> str | None:
    """A template for a signed comparison against the constant `b`, free of sign-flipping.

    With `b` non-negative, `a <s b` holds when `a` is below `b` or negative (top bit set);
    with `b` negative, when `a` is negative and below `b`. Chained comparisons read `a` once.
    """
    kind, op = name.split(".")
    if op not in ("lt_s", "le_s", "gt_s", "ge_s") or kind not in _HALF:
        return None
    top = _HALF[kind] - 1  # the largest non-negative value
    if c <= top:
        return {
            "lt_s": f"a < b or a > {top}",
            "le_s": f"a <= b or a > {top}",
            "gt_s": f"b < a <= {top}",
            "ge_s": f"b <= a <= {top}",
        }[op]
    return {
        "lt_s": f"{top + 1} <= a < b",
        "le_s": f"{top + 1} <= a <= b",
        "gt_s": f"a > b or a <= {top}",
        "ge_s": f"a >= b or a <= {top}",
    }[op]


def _constant(entry: Entry):
    return entry.expr.value if isinstance(entry.expr, ast.Constant) else None


def _unchanged_operand(name: str, operands: list[Entry]) -> Entry | None:
    """The operand the operation leaves as it is, if the other is an identity constant."""
    if len(operands) != 2:
        return None
    a, b = operands
    right = _constant(b)
    if right is not None:
        if _IDENTITY_RIGHT.get(name) == right:
            return a
        if name in _SHIFTS and right % _SHIFTS[name] == 0:
            return a
    left = _constant(a)
    if left is not None and _IDENTITY_LEFT.get(name) == left:
        return b
    return None


def lower_numeric(fl, ins: Instr) -> None:
    template = ins.op.data["py"]
    n_in = len(ins.op.sig[0])
    operands = fl.stack.shallow(fl.stack.popn(n_in))
    unchanged = _unchanged_operand(ins.op.name, operands)
    if unchanged is not None:
        fl.stack.push(unchanged)
        return
    op_name = ins.op.name
    right = _constant(operands[1]) if n_in == 2 else None
    if op_name in _BY_NONZERO_CONSTANT and right:
        template = _BY_NONZERO_CONSTANT[op_name]
    elif op_name in _SIGNED_DIVISIONS and isinstance(right, int):
        template = _signed_by_constant(op_name, right) or template
    elif op_name in _ROTATES and isinstance(right, int):
        template = _rotate_by_constant(op_name, right)
    elif op_name in _NEGATED and isinstance(right, int) and right >= _HALF[op_name[:3]]:
        op_name = _NEGATED[op_name]
        template = BY_NAME[op_name].data["py"]
        negated = 2 * _HALF[op_name[:3]] - right
        operands = [operands[0], Entry(ast.Constant(negated))]
    elif isinstance(right, int) and _constant(operands[0]) is None:
        template = _signed_vs_constant(op_name, right) or template
    operands, large = _unreduced(op_name, operands)
    if large and op_name in _MASKED:
        template = _MASKED[op_name]
    _, uses, traps = parse_template(template)
    # A local read may be repeated too: nothing writes it while an expression is evaluated.
    repeated = [
        uses[o] > 1 and not isinstance(e.expr, (ast.Name, ast.Constant))
        for o, e in zip(OPERANDS, operands)
    ]
    if any(repeated):
        # Spilling evaluates an operand early: impure ones go first, in order.
        fl.stack.before_effect()
        operands = [
            fl.to_temp(e) if again or not e.pure else e for e, again in zip(operands, repeated)
        ]
    # Lists, not generator expressions: this runs for every numeric instruction.
    exprs = tuple([e.expr for e in operands])
    expr = template_builder(template)(*exprs)
    constant = [type(e) is ast.Constant for e in exprs]
    if all(constant):
        expr = fold(expr)
    elif any(constant):
        expr = unreduced(fold_template_constants(expr, exprs), fl.local_ranges)
    fl.stack.push(
        Entry(
            expr,
            reads=frozenset().union(*[e.reads for e in operands]),
            pure=not traps and all([e.pure for e in operands]),
            depth=1 + max([e.depth for e in operands], default=0),
        )
    )
