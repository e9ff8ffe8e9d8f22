"""Wraps that the values' ranges make redundant are dropped, from facts the code tests.

Recursive C code tests its argument before it loops, and the loop's exit flag is computed
before the step:

    if not 2 <= l0 <= 2147483647:
        return l0
    while True:
        l1 = (f1((l0 - 1) % 4294967296) + l1) % 4294967296
        l2 = l0 > 3
        l3 = (l0 - 2) % 4294967296
        l0 = l3
        if l2:
            continue
        break

l0 stays in [2, 2**31) at the loop's head: it does on entry, and the loop continues only
when the old l0 was above 3, while the new one is 2 less. So `(l0 - 1) % 4294967296` and
`(l0 - 2) % 4294967296` are `l0 - 1` and `l0 - 2`.

A forward dataflow (`ForwardFlow`) keeps, for each variable, an interval; for a flag, the
comparison it holds (`l2` is `l0 > 3`) while the compared variable keeps its value; and for a
variable, an offset from another (`l3` is `l0 - 2`), which carries the flag's comparison over
when the compared variable is given the new value. `if` tests narrow the intervals on each
branch. Loops are widened: a bound still moving after a few rounds is dropped. The rewrite
then drops each `% 2**k` or `& (2**k - 1)` whose operand's interval already fits.
"""

from __future__ import annotations

import ast
import operator

from ..types import ValType
from .bounds import bounds, loaded_range, unreduced
from .dataflow import ForwardFlow, Unsupported
from .exprs import evaluated, nested_blocks, rewrite_statement, walk, with_children

Interval = tuple[int, int]
Flag = tuple[str, type, int]  # (variable, comparison operator, constant)
Offset = tuple[str, int]  # (base variable, constant): the variable holds base + constant


class State:
    """What holds at one point: intervals, flags and offsets of the function's variables."""

    __slots__ = ("intervals", "flags", "offsets", "types")

    def __init__(self, types: dict[str, Interval], intervals=None, flags=None, offsets=None):
        self.types = types  # variable -> the interval of its Wasm type: no test needed
        self.intervals: dict[str, Interval] = intervals or {}
        self.flags: dict[str, Flag] = flags or {}
        self.offsets: dict[str, Offset] = offsets or {}

    def copy(self) -> State:
        return State(self.types, dict(self.intervals), dict(self.flags), dict(self.offsets))

    def get(self, var: str) -> Interval | None:
        """The interval `var` is in: what the code says, else what its type does (so a
        state serves as the variables of bounds.bounds)."""
        found = self.intervals.get(var)
        return found if found is not None else self.types.get(var)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, State)
            and self.intervals == other.intervals
            and self.flags == other.flags
            and self.offsets == other.offsets
        )

    def forget(self, var: str) -> None:
        """`var` is about to change: drop what was known about it and through it."""
        self.intervals.pop(var, None)
        if not self.flags and not self.offsets:
            return
        self.flags.pop(var, None)
        self.offsets.pop(var, None)
        for flag, (compared, _, _) in list(self.flags.items()):
            if compared == var:
                del self.flags[flag]
        for other, (base, _) in list(self.offsets.items()):
            if base == var:
                del self.offsets[other]


_WIDEN_AFTER = 2  # rounds of a loop after which moving bounds are dropped
# Only small functions with a loop are analysed: the analysis costs about as much as
# lowering them, and pays off in loops; a bigger function's states grow with it. (The
# types and constants alone bound values as they are lowered, everywhere: bounds.py.)
_MAX_STATEMENTS = 60
_INT_BITS = {"i32": 32, "i64": 64}
_UNBOUNDED = 1 << 256  # beyond any value generated code holds: a bound only tests set
_NEGATED = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_MIRRORED = {
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub}


def _offset(node: ast.expr, state: State) -> Offset | None:
    """(v, k) if `node` is v, v + k or v - k, or one of them wrapped where it does not wrap."""
    kind = type(node)
    if kind is ast.Name:
        return node.id, 0
    if kind is not ast.BinOp or type(node.right) is not ast.Constant:
        return None
    op = type(node.op)
    if op in _ARITHMETIC and type(node.left) is ast.Name and type(node.right.value) is int:
        return node.left.id, _ARITHMETIC[op](0, node.right.value)
    inner = unreduced(node, state)  # a reduction of a value already in range
    return None if inner is node else _offset(inner, state)


def _narrowed(found: Interval | None, op: type, constant: int) -> Interval | None:
    """`found` where `value op constant` holds; None if it cannot (the branch is dead)."""
    low, high = found if found is not None else (-_UNBOUNDED, _UNBOUNDED)
    if op is ast.Lt:
        high = min(high, constant - 1)
    elif op is ast.LtE:
        high = min(high, constant)
    elif op is ast.Gt:
        low = max(low, constant + 1)
    elif op is ast.GtE:
        low = max(low, constant)
    elif op is ast.Eq:
        low, high = max(low, constant), min(high, constant)
    elif op is ast.NotEq:
        if low == constant:
            low += 1
        if high == constant:
            high -= 1
    return (low, high) if low <= high else None


class _Ranges(ForwardFlow[State]):
    def __init__(self, own: set[str]):
        super().__init__()
        self.own = own
        self.candidates: dict[int, bool] = {}  # statement id -> whether it wraps a variable
        self.before: dict[int, State] = {}  # candidate id -> the state it starts from

    def join(self, states: list[State]) -> State:
        first, *rest = states
        joined = first.copy()
        for other in rest:
            if other.intervals != joined.intervals:
                intervals = {}
                for var, mine in joined.intervals.items():
                    theirs = other.intervals.get(var)
                    if theirs == mine:
                        intervals[var] = mine
                    elif theirs is not None:
                        intervals[var] = (min(mine[0], theirs[0]), max(mine[1], theirs[1]))
                joined.intervals = intervals
            if joined.flags and other.flags != joined.flags:
                joined.flags = {k: v for k, v in joined.flags.items() if other.flags.get(k) == v}
            if joined.offsets and other.offsets != joined.offsets:
                joined.offsets = {
                    k: v for k, v in joined.offsets.items() if other.offsets.get(k) == v
                }
        return joined

    def copy(self, state: State) -> State:
        return state.copy()

    def transfer(self, node: ast.stmt, state: State) -> State:
        key = id(node)
        candidate = self.candidates.get(key)
        if candidate is None:
            candidate = self.candidates[key] = _wraps_one_variable(node)
        if candidate:
            self.before[key] = state.copy()
        if type(node) is ast.Assign:
            target = node.targets[0]
            if len(node.targets) == 1 and type(target) is ast.Name:
                self.assign(target.id, node.value, state)
            else:
                for sub in ast.walk(target):
                    if type(sub) is ast.Name:
                        state.forget(sub.id)
        elif type(node) is ast.For:
            for sub in ast.walk(node.target):
                if type(sub) is ast.Name:
                    state.forget(sub.id)
        elif type(node) is ast.Nonlocal:
            for var in node.names:
                state.forget(var)
        return state

    def assign(self, var: str, value: ast.expr, state: State) -> None:
        found = bounds(value, state)
        offset = _offset(value, state)
        flag = None
        if (
            type(value) is ast.Compare
            and len(value.ops) == 1
            and type(value.left) is ast.Name
            and type(value.comparators[0]) is ast.Constant
            and type(value.comparators[0].value) is int
            and type(value.ops[0]) in _NEGATED
        ):
            flag = value.left.id, type(value.ops[0]), value.comparators[0].value
        elif type(value) is ast.Name:
            flag = state.flags.get(value.id)
        # A flag on var's old value carries over when the new one is old + k.
        carried = []
        if offset is not None and offset[0] != var:
            base, k = offset
            moved = state.offsets.get(base)
            if moved is not None and moved[0] == var:
                k += moved[1]
                offset = None
            else:
                k = None
        elif offset is not None:
            k, offset = offset[1], None
        else:
            k = None
        if k is not None:
            for name, (compared, op, constant) in state.flags.items():
                if compared == var:
                    carried.append((name, (var, op, constant + k)))
        state.forget(var)
        if var not in self.own:
            return
        typed = state.types.get(var)
        if found is not None and (typed is None or typed[0] < found[0] or found[1] < typed[1]):
            state.intervals[var] = found  # narrower than the type says
        if flag is not None and flag[0] != var:
            state.flags[var] = flag
        if offset is not None and offset[0] != var and self.flagged(offset[0], state):
            state.offsets[var] = offset  # only to carry a flag over: kept for flagged bases
        for name, carried_flag in carried:
            state.flags[name] = carried_flag

    @staticmethod
    def flagged(var: str, state: State) -> bool:
        return any(compared == var for compared, _, _ in state.flags.values())

    def statement(self, node: ast.stmt, state: State) -> State | None:
        if type(node) is not ast.If:
            return super().statement(node, state)
        state = self.transfer(node, state)
        taken = self.narrow(node.test, True, state.copy())
        skipped = self.narrow(node.test, False, state)
        taken = self.block(node.body, taken) if taken is not None else None
        skipped = self.block(node.orelse, skipped) if skipped is not None else None
        return self.merge([taken, skipped])

    def narrow(self, test: ast.expr, holds: bool, state: State) -> State | None:
        """`state` where `test` is `holds`; None where that cannot be."""
        kind = type(test)
        if kind is ast.UnaryOp and type(test.op) is ast.Not:
            return self.narrow(test.operand, not holds, state)
        if kind is ast.BoolOp:
            both = (type(test.op) is ast.And) == holds  # every operand has the value
            if both:
                for value in test.values:
                    state = self.narrow(value, holds, state)
                    if state is None:
                        return None
            return state
        if kind is ast.Name:
            flag = state.flags.get(test.id)
            if flag is not None:
                compared, op, constant = flag
                return self.limit(state, compared, op if holds else _NEGATED[op], constant)
            return state
        if kind is not ast.Compare:
            return state
        operands = [test.left, *test.comparators]
        for left, op, right in zip(operands, test.ops, operands[1:]):
            op = type(op)
            if len(test.ops) > 1 and not holds:
                return state  # a failed chain fails at one link, which is not known
            if op not in _NEGATED:
                continue
            if not holds:
                op = _NEGATED[op]
            if type(left) is ast.Name and type(right) is ast.Constant:
                state = self.limit(state, left.id, op, right.value)
            elif type(right) is ast.Constant and holds and op in (ast.Lt, ast.LtE):
                state = self.range_check(state, left, right.value - (op is ast.Lt))
            elif type(right) is ast.Name and type(left) is ast.Constant and op in _MIRRORED:
                state = self.limit(state, right.id, _MIRRORED[op], left.value)
            if state is None:
                return None
        return state

    def range_check(self, state: State, test: ast.expr, high) -> State | None:
        """`state` where `(v - c) % 2**32 <= high`: C's `c <= v && v <= c + high`, compiled
        to one unsigned compare."""
        if type(high) is not int or high < 0:
            return state
        if (
            type(test) is not ast.BinOp
            or type(test.op) is not ast.Mod
            or type(test.right) is not ast.Constant
            or type(test.right.value) is not int
        ):
            return state
        limit = test.right.value
        inner = _offset(test.left, state)
        found = state.get(inner[0]) if inner is not None else None
        if found is None or found[0] < 0 or found[1] >= limit or limit & (limit - 1):
            return state
        var, k = inner
        low = -k % limit  # v + k wraps to [0, high] when v is in [low, low + high]
        if low + high >= limit:
            return state
        state = self.limit(state, var, ast.GtE, low)
        return None if state is None else self.limit(state, var, ast.LtE, low + high)

    def limit(self, state: State, var: str, op: type, constant) -> State | None:
        if type(constant) is not int or var not in self.own:
            return state
        known = state.intervals.get(var)
        narrowed = _narrowed(known or state.types.get(var), op, constant)
        if narrowed is None:
            # A test no value of the interval passes: the branch is dead, if the interval
            # came from the code. One from the type alone does not prune: signed.py may
            # hold a local's value signed, in a copy this pass did not see as one.
            return None if known is not None else state
        state.intervals[var] = narrowed
        return state

    def widen(self, head: State, new_head: State, rounds: int) -> State:
        """Drops the bounds still moving after `_WIDEN_AFTER` rounds: a counter compared
        with an unknown bound would take 2**32 rounds."""
        if rounds >= _WIDEN_AFTER:
            new_head.intervals = {
                var: found
                for var, found in new_head.intervals.items()
                if head.intervals.get(var) == found
            }
        return new_head


def _unwrapped(node: ast.expr, state: State) -> ast.expr:
    """`node` with each wrap its operand's interval makes redundant dropped."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant:
        return node
    return unreduced(with_children(node, lambda child: _unwrapped(child, state)), state)


def drop_wraps_in_range(func: ast.FunctionDef, local_types: list[ValType]) -> ast.FunctionDef:
    """Drop the wraps of `func` that the ranges its tests establish make redundant.
    `local_types`: of its Wasm locals, parameters first (local k is `l<k>`, and its webs
    `l<k>_<n>`; each holds a value of its type, reduced, or an element index)."""
    survey = _Survey({a.arg for a in func.args.args})
    survey.block(func.body)
    if survey.statements > _MAX_STATEMENTS or not survey.loops:
        return func
    nonlocals = {n for node in func.body if type(node) is ast.Nonlocal for n in node.names}
    own = survey.stored - nonlocals
    types = {}
    for var in own - survey.all_signed():
        local = var[1:].partition("_")[0]
        if var[:1] == "l" and local.isdigit() and int(local) < len(local_types):
            bits = _INT_BITS.get(local_types[int(local)])
            if bits is not None:
                types[var] = (0, (1 << bits) - 1)
    flow = _Ranges(own)
    try:
        flow.block(func.body, State(types))
    except Unsupported:
        return func
    if flow.before:
        _rewrite(func.body, flow.before)
    return func


class _Survey:
    """What a function assigns, and which variables may hold signed values, not their
    type's (lower/signed.py loads them through a signed view, and copies them to hoisted
    flips compared with negative constants), from its statements alone."""

    def __init__(self, params: set[str]):
        self.stored = set(params)
        self.signed: set[str] = set()
        self.copies: list[tuple[str, str]] = []  # (target, source) of `target = source`
        self.statements = 0
        self.loops = 0

    def block(self, statements: list[ast.stmt]) -> None:
        self.statements += len(statements)
        for node in statements:
            kind = type(node)
            if kind is ast.Assign:
                value = node.value
                for target in node.targets:
                    if type(target) is ast.Name:
                        self.stored.add(target.id)
                        if type(value) is ast.Name:
                            self.copies.append((target.id, value.id))
                        loaded = loaded_range(value) if type(value) is ast.Subscript else None
                        if loaded is not None and loaded[0] < 0:
                            self.signed.add(target.id)
            elif kind is ast.If or kind is ast.While:
                self.negative_compares(node.test)
                self.loops += kind is ast.While
            for nested in nested_blocks(node):
                self.block(nested)

    def negative_compares(self, test: ast.expr) -> None:
        for sub in walk(test):
            if type(sub) is ast.Compare:
                operands = [sub.left, *sub.comparators]
                if any(type(o) is ast.Constant and _negative(o.value) for o in operands):
                    self.signed.update(o.id for o in operands if type(o) is ast.Name)

    def all_signed(self) -> set[str]:
        """The signed variables and, through copies either way, all that share values."""
        signed = set(self.signed)
        grew = True
        while grew:
            grew = False
            for target, source in self.copies:
                if (target in signed) != (source in signed):
                    signed.update((target, source))
                    grew = True
        return signed


def _negative(value) -> bool:
    return type(value) is int and value < 0


def _wraps_one_variable(node: ast.stmt) -> bool:
    """Whether `node` wraps a variable combined with constants (`(v - 1) % 4294967296`):
    only such wraps can be dropped."""
    return any(
        type(sub) is ast.BinOp and _wraps(sub) and _one_variable(sub.left) is not None
        for expr in evaluated(node)
        for sub in walk(expr)
    )


def _wraps(node: ast.expr) -> bool:
    """Whether `node` is `x % 2**k` or `x & (2**k - 1)` (k > 0) of a non-constant x."""
    if type(node) is not ast.BinOp or type(node.right) is not ast.Constant:
        return False
    op = type(node.op)
    if op is not ast.Mod and op is not ast.BitAnd:
        return False
    limit = node.right.value
    if type(limit) is not int:
        return False
    limit += op is ast.BitAnd
    return limit > 1 and limit & (limit - 1) == 0 and type(node.left) is not ast.Constant


def _one_variable(node: ast.expr) -> str | None:
    """v if `node` is a variable v, or v and constants combined (`v - 1`, `v * 7`,
    `(v >> 24) & 255`): the wraps whose range a test on v may settle."""
    while type(node) is ast.BinOp:
        if type(node.right) is ast.Constant:
            node = node.left
        elif type(node.left) is ast.Constant:
            node = node.right
        else:
            return None
    return node.id if type(node) is ast.Name else None


def _rewrite(statements: list[ast.stmt], before: dict[int, State]) -> None:
    for node in statements:
        state = before.get(id(node))
        if state is not None:
            rewrite_statement(node, lambda expr, s=state: _unwrapped(expr, s))
        for nested in nested_blocks(node):
            _rewrite(nested, before)
