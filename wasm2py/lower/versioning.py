"""Counted loops get a second copy without wraparound, chosen when entry values allow it.

Wasm's 32-bit arithmetic wraps, so a loop counter or pointer stepped by a constant pays for
`% 4294967296` (or an index's mask) on every iteration, though in a counted loop it can only
wrap if its start is already near the limit. When a loop ends with its exit test on a
counter (`if l4 != l7: continue`, `if l3: continue`, or the signed `if l0 ^ 2147483648 <= h:`)
the number of iterations is bounded at entry, and so is the range of every variable the
loop steps once per iteration by a constant or an invariant. The loop becomes

    if <every stepped value, and every `p + k` computed from one, stays in range>:
        <the loop, those wraps dropped>
    else:
        <the loop as it was>

The test costs a few operations per entry, so only loops long enough to repay it (a counter
compared to a bound, not a fixed small count) are versioned, and only small ones (the loop is
copied).
"""

from __future__ import annotations

import ast

from .exprs import (
    clone,
    names,
    nested_blocks,
    rewrite_statement,
    sign_flipped,
    stored_names,
    with_children,
)
from .hoist import is_hoisted
from .stack import name
from .strided import strided_loop
from .webs import split_webs, statement_reads

_LIMITS = (1 << 32, 1 << 31, 1 << 30, 1 << 29)  # of i32 values, and of element indices
_SIGN = 1 << 31
_MAX_STATEMENTS = 40  # a bigger loop is not copied
_MAX_DEPTH = 30  # indentation levels: the copy sits one deeper, under CPython's 100
_MIN_TRIPS = 8  # fewer iterations than this do not repay the test


def _wrap(node: ast.expr) -> tuple[ast.expr, int] | None:
    """(x, limit) if `node` wraps x to [0, limit): `x % limit` or `x & (limit - 1)`."""
    if type(node) is not ast.BinOp or type(node.right) is not ast.Constant:
        return None
    constant = node.right.value
    if type(node.op) is ast.Mod and constant in _LIMITS:
        return node.left, constant
    if type(node.op) is ast.BitAnd and constant + 1 in _LIMITS:
        return node.left, constant + 1
    return None


def _step(node: ast.expr) -> tuple[str, int, ast.expr, int] | None:
    """(v, sign, k, limit) if `node` computes v + k or v - k (sign 1 or -1) wrapped to
    [0, limit), as a wrap or as the conditional of lower/indices.py."""
    if type(node) is ast.IfExp:
        return _conditional_step(node)
    found = _wrap(node)
    if found is None:
        return None
    inner, limit = found
    if (
        type(inner) is ast.BinOp
        and type(inner.op) in (ast.Add, ast.Sub)
        and type(inner.left) is ast.Name
        and type(inner.right) in (ast.Name, ast.Constant)
    ):
        sign = 1 if type(inner.op) is ast.Add else -1
        return inner.left.id, sign, inner.right, limit
    return None


def _conditional_step(node: ast.IfExp) -> tuple[str, int, ast.expr, int] | None:
    """`v + c if v < L - c else v - (L - c)` or `v - c if v >= c else v + (L - c)`: for v in
    [0, L), (v + c) or (v - c) wrapped to [0, L)."""
    body, test, orelse = node.body, node.test, node.orelse
    if not (
        type(body) is ast.BinOp
        and type(body.left) is ast.Name
        and type(body.right) is ast.Constant
        and type(test) is ast.Compare
        and len(test.ops) == 1
        and type(test.left) is ast.Name
        and type(test.comparators[0]) is ast.Constant
        and type(orelse) is ast.BinOp
        and type(orelse.left) is ast.Name
        and type(orelse.right) is ast.Constant
        and test.left.id == body.left.id == orelse.left.id
    ):
        return None
    var, step, bound, back = body.left.id, body.right.value, test.comparators[0].value, orelse
    ops = (type(body.op), type(test.ops[0]), type(orelse.op))
    if ops == (ast.Add, ast.Lt, ast.Sub):
        limit = bound + step
        sign = 1
    elif ops == (ast.Sub, ast.GtE, ast.Add) and bound == step:
        limit = step + back.right.value
        sign = -1
    else:
        return None
    if limit not in _LIMITS or back.right.value != limit - step or not 0 < step < limit:
        return None
    return var, sign, body.right, limit


def _statements(statements: list[ast.stmt]) -> int:
    return sum(1 + sum(_statements(b) for b in nested_blocks(s)) for s in statements)


def _writes(statements: list[ast.stmt], counts: dict[str, int]) -> None:
    for node in statements:
        if type(node) is ast.Assign:
            for target in node.targets:
                for var in stored_names(target):
                    counts[var] = counts.get(var, 0) + 1
        for nested in nested_blocks(node):
            _writes(nested, counts)


def _continues(statements: list[ast.stmt]) -> int:
    """`continue`s of the loop these statements are in (not of loops inside them)."""
    total = 0
    for node in statements:
        if type(node) is ast.Continue:
            total += 1
        elif type(node) is not ast.While:
            total += sum(_continues(b) for b in nested_blocks(node))
    return total


def _op(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.BinOp:
    return ast.BinOp(left=left, op=op, right=right)


def _compare(left: ast.expr, op: ast.cmpop, right: ast.expr) -> ast.Compare:
    return ast.Compare(left=left, ops=[op], comparators=[right])


class _Loop:
    """What versioning one loop needs: its stepped variables and the bound of its trips."""

    def __init__(self, loop: ast.While, hoisted: dict[str, ast.expr], own: set[str]):
        self.loop = loop
        self.hoisted = hoisted  # hoisted temporaries bound before the loop -> their values
        self.own = own  # the function's own variables: no call can change them
        self.writes: dict[str, int] = {}
        _writes(loop.body, self.writes)
        # variable -> (sign, step, limit): stepped once per iteration by its only write
        self.stepped: dict[str, tuple[int, ast.expr, int]] = {}
        # variable -> what its value is on entry to the loop
        self.entry: dict[str, ast.expr] = {}
        # Rotated loops start with a copy, `i = n`, and step the copy back: `n = (i + 1) % ..`.
        # i is then stepped from one iteration to the next, starting from n's value.
        first = loop.body[0]
        copied = (
            (first.targets[0].id, first.value.id)
            if type(first) is ast.Assign
            and type(first.targets[0]) is ast.Name
            and type(first.value) is ast.Name
            else None
        )
        self.copies: set[str] = set()  # stepped variables that are such copies
        for node in loop.body[:-2]:
            if type(node) is ast.Assign and type(node.targets[0]) is ast.Name:
                found = _step(node.value)
                var = node.targets[0].id
                if (
                    found is None
                    or self.writes.get(var) != 1
                    or not self.invariant(found[2])
                    or (type(found[2]) is ast.Constant and found[2].value < 0)
                ):
                    continue
                if found[0] == var:
                    self.stepped[var] = found[1:]
                    self.entry[var] = name(var)
                elif copied == (found[0], var) and self.writes.get(found[0]) == 1:
                    self.stepped[found[0]] = found[1:]
                    self.entry[found[0]] = name(var)
                    self.copies.add(found[0])

    def invariant(self, node: ast.expr) -> bool:
        """A constant, or a variable the loop does not write holding a Wasm value (not a
        hoisted partial sum, which may be negative or past 32 bits)."""
        if type(node) is ast.Constant:
            return type(node.value) is int
        return (
            type(node) is ast.Name
            and node.id in self.own  # a global may change in a call in the loop
            and node.id not in self.writes
            and not is_hoisted(node.id)
        )

    def trips(self):
        """(conditions, T, fast exit test, known, exact): when the conditions hold, each
        stepped variable is stepped at most T times, the exit test can be `fast` (None: as it
        is), `known` maps the counter to its smallest and largest values, and `exact` is the
        counter whose own step cannot wrap (it lands on the bound exactly), or None."""
        test = self.loop.body[-2].test
        if type(test) is ast.Name:  # `if c:` counts down to 0
            return self.count_to(test.id, ast.Constant(0)) if test.id in self.stepped else None
        if type(test) is not ast.Compare or len(test.ops) != 1:
            return None
        left, op, right = test.left, type(test.ops[0]), test.comparators[0]
        if op is ast.NotEq:
            for counter, bound in ((left, right), (right, left)):
                if type(counter) is ast.Name and counter.id in self.stepped:
                    return self.count_to(counter.id, bound)
            return None
        if op in (ast.Lt, ast.LtE):
            return self.signed_up_to(left, op, right)
        return None

    def count_to(self, counter: str, bound: ast.expr):
        sign, step, limit = self.stepped[counter]
        if limit != 1 << 32 or type(step) is not ast.Constant or not self.invariant(bound):
            return None
        step = step.value
        start = self.entry[counter]
        # up: counter < bound and (bound - counter) % step == 0; down: the mirror image
        low, high = (start, bound) if sign > 0 else (bound, start)
        zero = type(low) is ast.Constant and low.value == 0
        distance = high if zero else _op(high, ast.Sub(), low)
        conditions = [
            _compare(distance, ast.GtE(), ast.Constant(step * _MIN_TRIPS)),
        ]
        if step != 1:
            remainder = _op(distance, ast.Mod(), ast.Constant(step))
            conditions.append(_compare(remainder, ast.Eq(), ast.Constant(0)))
        trips = distance if step == 1 else _op(distance, ast.FloorDiv(), ast.Constant(step))
        exact = counter
        # The counter's step stays in range if its largest value does: an i64 local stepped
        # by i32 arithmetic may hold more.
        conditions.append(_compare(high, ast.Lt(), ast.Constant(limit)))
        if counter in self.copies:
            # the test reads the value before the step: one trip more, the bound included,
            # and the last step goes past the bound
            trips = _op(trips, ast.Add(), ast.Constant(1))
            exact = None
        return conditions, trips, None, {counter: (low, high)}, exact

    def signed_up_to(self, left: ast.expr, op: type, right: ast.expr):
        """`c ^ 2147483648 <= h` with h the flip of an invariant bound, c stepped up."""
        counter = sign_flipped(left)
        bound = sign_flipped(right)
        if bound is None and type(right) is ast.Name and right.id in self.hoisted:
            bound = sign_flipped(self.hoisted[right.id])
        if type(counter) is not ast.Name or counter.id not in self.stepped or bound is None:
            return None
        counter = counter.id
        if counter in self.copies:
            return None
        sign, step, limit = self.stepped[counter]
        if sign < 0 or limit != 1 << 32 or not self.invariant(bound):
            return None
        if type(bound) is ast.Name and bound.id in self.writes:
            return None
        # All of start, bound and bound + step below 2**31: no value wraps, and signed order
        # is the order of the values as they are.
        sign_bit = ast.Constant(_SIGN)
        if type(step) is ast.Constant and step.value <= 0:
            return None
        many = _op(step, ast.Mult(), ast.Constant(_MIN_TRIPS))
        conditions = [
            _compare(_op(bound, ast.Sub(), name(counter)), ast.GtE(), many),
            _compare(name(counter), ast.Lt(), sign_bit),
            _compare(_op(bound, ast.Add(), step), ast.Lt(), sign_bit),
        ]
        if type(step) is not ast.Constant:
            conditions.append(_compare(step, ast.Gt(), ast.Constant(0)))
        distance = ast.Call(
            func=name("max"),
            args=[_op(bound, ast.Sub(), name(counter)), ast.Constant(0)],
            keywords=[],
        )
        # Exact (lower/strided.py runs exactly this many): stepped on while c <= bound, or
        # while c < bound; at least once either way, and the conditions ask for more.
        if op is ast.LtE:
            trips = _op(_op(distance, ast.FloorDiv(), step), ast.Add(), ast.Constant(1))
        elif _is_one(step):
            trips = distance
        else:
            rounded_up = _op(distance, ast.Add(), _op(step, ast.Sub(), ast.Constant(1)))
            trips = _op(rounded_up, ast.FloorDiv(), step)
        fast_test = ast.Compare(left=name(counter), ops=[op()], comparators=[bound])
        return (
            conditions,
            trips,
            fast_test,
            {counter: (name(counter), _op(bound, ast.Add(), step))},
            None,
        )


class _Ranges:
    """Collects, over the loop, the steps and sums of stepped variables that can drop their
    wrap, and the conditions under which they may."""

    def __init__(
        self,
        loop: _Loop,
        trips: ast.expr,
        known: dict[str, tuple[ast.expr, ast.expr]],
        exact_step: ast.expr | None,
    ):
        self.loop = loop
        self.trips = trips
        self.known = known  # variable -> (smallest, largest) value, where the exit test says
        # The counter's own step, when it cannot wrap: a countdown's `c - 1` runs on c >= 1,
        # though the counter's smallest value is 0.
        self.exact_step = exact_step
        self.exact_dropped = False
        # (variable, sign, limit, the amount's name or None for constants) -> largest constant
        self.needs: dict[tuple[str, int, int, str | None], int] = {}

    def extreme(self, var: str, sign: int) -> ast.expr:
        """The largest (sign 1) or smallest (-1) value `var` takes in the loop."""
        if var in self.known:
            return self.known[var][sign > 0]
        step_sign, step, _ = self.loop.stepped[var]
        start = self.loop.entry[var]
        if step_sign != sign:
            return start
        if _is_one(step):
            moved = self.trips
        elif _is_one(self.trips):
            moved = step
        else:
            moved = _op(step, ast.Mult(), self.trips)
        return _op(start, ast.Add() if sign > 0 else ast.Sub(), moved)

    def drop(self, node: ast.expr) -> bool:
        """Whether `node`, v + k or v - k wrapped, can go unwrapped: records the condition."""
        if node is self.exact_step:
            self.exact_dropped = True
            return True
        found = _step(node)
        if found is None or found[0] not in self.loop.stepped:
            return False
        var, sign, amount, limit = found
        if not self.loop.invariant(amount) or limit != self.loop.stepped[var][2]:
            return False
        if type(amount) is ast.Constant:
            if amount.value < 0:
                return False
            key = (var, sign, limit, None)
            self.needs[key] = max(self.needs.get(key, 0), amount.value)
        else:
            self.needs[(var, sign, limit, amount.id)] = 0
        return True

    def conditions(self) -> list[ast.expr]:
        found = []
        for (var, sign, limit, amount), constant in self.needs.items():
            if self.loop.stepped[var][0] < 0:
                # Stepped down, nothing else bounds its start: an i64 local stepped by i32
                # arithmetic, or one masked to fewer bits, may start above the limit.
                found.append(_compare(self.loop.entry[var], ast.Lt(), ast.Constant(limit)))
            moved = name(amount) if amount is not None else ast.Constant(constant)
            if sign > 0:
                high = _op(self.extreme(var, 1), ast.Add(), moved)
                found.append(_compare(high, ast.Lt(), ast.Constant(limit)))
            else:
                low = _op(self.extreme(var, -1), ast.Sub(), moved)
                found.append(_compare(low, ast.GtE(), ast.Constant(0)))
        return found


def _is_one(node: ast.expr) -> bool:
    return type(node) is ast.Constant and node.value == 1


class _Unwrap:
    """Rewrites the fast copy: every wrap `_Ranges` accepted loses it."""

    def __init__(self, ranges: _Ranges):
        self.ranges = ranges

    def block(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            rewrite_statement(node, self.expr)
            for nested in nested_blocks(node):
                self.block(nested)

    def expr(self, node: ast.expr) -> ast.expr:
        if type(node) in (ast.Name, ast.Constant):
            return node
        if self.ranges.drop(node):
            var, sign, amount, _ = _step(node)
            return _op(name(var), ast.Add() if sign > 0 else ast.Sub(), amount)
        return with_children(node, self.expr)


def _version(
    loop: ast.While, hoisted: dict[str, ast.expr], own: set[str], strided_ok: bool
) -> ast.stmt | None:
    body = loop.body
    if (
        not (type(loop.test) is ast.Constant and loop.test.value is True)
        or loop.orelse
        or len(body) < 3
        or type(body[-1]) is not ast.Break
        or type(body[-2]) is not ast.If
        or body[-2].orelse
        or len(body[-2].body) != 1
        or type(body[-2].body[0]) is not ast.Continue
        or _continues(body) != 1
        or _statements(body) > _MAX_STATEMENTS
    ):
        return None
    shape = _Loop(loop, hoisted, own)
    if not shape.stepped:
        return None
    found = shape.trips()
    if found is None:
        return None
    conditions, trips, fast_test, known, exact = found
    fast = clone(loop)
    exact_step = None
    if exact is not None:
        exact_step = next(
            node.value
            for node in fast.body[:-2]
            if type(node) is ast.Assign
            and type(node.targets[0]) is ast.Name
            and node.targets[0].id == exact
        )
    ranges = _Ranges(shape, trips, known, exact_step)
    _Unwrap(ranges).block(fast.body)
    if not ranges.needs and not ranges.exact_dropped:
        return None
    if fast_test is not None:
        fast.body[-2].test = fast_test
    tests = []
    for condition in [*conditions, *ranges.conditions()]:
        if names(condition):
            tests.append(condition)
        elif not _evaluate(condition):
            return None  # the copy could never run (a bound this pass cannot prove)
    guard = ast.BoolOp(op=ast.And(), values=tests)
    strided = None
    if strided_ok and not shape.copies:  # a copy's trips are one more than its steps
        strided = strided_loop(fast, shape.stepped, shape.invariant, trips)
    return ast.If(test=guard, body=strided or [fast], orelse=[loop])


def _evaluate(node: ast.expr):
    return eval(compile(ast.fix_missing_locations(ast.Expression(node)), "<guard>", "eval"))


def version_counted_loops(func: ast.FunctionDef) -> ast.FunctionDef:
    """Give `func`'s small counted loops a copy without wraparound, taken when the values
    on entry keep every stepped variable in range."""
    writes: dict[str, int] = {}
    _writes(func.body, writes)
    nonlocals = {n for node in func.body if type(node) is ast.Nonlocal for n in node.names}
    own = ({a.arg for a in func.args.args} | set(writes)) - nonlocals
    reused = _reused_counters(func.body) & own
    if reused:
        split_webs(func, reused, statement_reads(func.body))
    _visit(func.body, {}, 1, own)
    return func


def _reused_counters(statements: list[ast.stmt], found: set[str] | None = None) -> set[str]:
    """Variables a loop steps that the loop also writes elsewhere: C compilers reuse a
    counter's local inside the loop (sieve's `i` and its inner `j`), which hides the
    counter until the local is split into its webs."""
    if found is None:
        found = set()
    for node in statements:
        body = node.body if type(node) is ast.While else ()
        if len(body) >= 3 and type(body[-1]) is ast.Break and type(body[-2]) is ast.If:
            tested = names(body[-2].test)  # the counter is, or is copied to, what it tests
            writes: dict[str, int] = {}
            _writes(body, writes)
            for step in body[:-2]:
                if type(step) is ast.Assign and type(step.targets[0]) is ast.Name:
                    var = step.targets[0].id
                    found_step = _step(step.value)
                    if (
                        writes.get(var, 0) > 1
                        and found_step is not None
                        and (var in tested or found_step[0] in tested)
                    ):
                        found.add(var)
        for nested in nested_blocks(node):
            _reused_counters(nested, found)
    return found


def _visit(
    statements: list[ast.stmt], hoisted: dict[str, ast.expr], depth: int, own: set[str]
) -> None:
    for k, node in enumerate(statements):
        if (
            type(node) is ast.Assign
            and type(node.targets[0]) is ast.Name
            and is_hoisted(node.targets[0].id)
        ):
            hoisted[node.targets[0].id] = node.value
        for nested in nested_blocks(node):
            _visit(nested, dict(hoisted), depth + 1, own)
        if type(node) is ast.While and depth < _MAX_DEPTH:
            versioned = _version(node, hoisted, own, depth < _MAX_DEPTH - 1)
            if versioned is not None:
                statements[k] = versioned
