"""Aligned addresses computed as element indices, and pointers kept as element indices.

After lower/aligned.py an aligned access reads `m0d[addr >> 3]`. When the address is a sum
whose terms are all multiples of the element size, the shift distributes over it: for terms
divisible by 2**s, ((t1 + t2) mod 2**32) >> s == ((t1 >> s) + (t2 >> s)) mod 2**(32-s). So
`((l1 << 2) + h1 - 8 & 4294967295) >> 2` becomes `l1 + (h1 >> 2) - 2 & 1073741823`: a shift
fewer, and a mask CPython holds in one digit. These are exact identities on all integers, so
no range is assumed.

A variable that holds only aligned values, and is read mostly inside such addresses, goes
further: it holds its value >> s instead, so a pointer stepping through an array
(`p = (p + 8) % 4294967296`, read as `m0d[p >> 3]`) becomes `p = (p + 1) % 536870912`, read as
`m0d[p]`. Its other reads shift it back (`p << 3`). A cost model weighs, per variable, the
shifts its addresses save against the shifts its other reads and definitions add, each
weighted by loop depth.
"""

from __future__ import annotations

import ast
import copy
import struct
from collections import Counter, defaultdict
from typing import Callable

from wasm2py_runtime.memory import VIEW_FORMATS

from .bounds import within
from .env import memory_view_id
from .exprs import (
    children,
    evaluated,
    names,
    nested_blocks,
    rewrite_statement,
    stored_names,
    walk,
    with_children,
)
from .hoist import is_hoisted
from .webs import StatementReads

State = dict[str, int]
Alignments = Callable[[State], "object"]  # state -> an object with .of(expr) -> log2 alignment

_VIEW_SHIFTS = {
    memory_view_id(0, fmt): struct.calcsize(fmt).bit_length() - 1 for fmt in VIEW_FORMATS
}
_LOOP_WEIGHT = 8  # a statement in a loop counts as this many outside it
_MAX_WEIGHT = _LOOP_WEIGHT**4

# What operations cost, in rough nanoseconds on CPython 3.11 (3.9 to 3.13 rank them alike).
# `x % 2**32` is cheap because CPython returns x at once when x has fewer digits (30 bits each)
# than the divisor; `x % 2**29` divides, so an index wraps with % only where the divisor still
# has two digits (a shift of 1 or 2), and with & otherwise.
_SHIFT = 5
_STEP = 2  # an index stepped by a constant, wrapped by a conditional (`_stepped`)
_WRAP_COSTS = {ast.Mod: 4, ast.BitAnd: 11}  # the 32-bit wrap
_WRAPS = ((ast.BitAnd, 0xFFFFFFFF), (ast.Mod, 1 << 32))


def _index_wrap(shift: int) -> tuple[type, int, int]:
    """(operator, constant, cost) that wrap an element index of a 2**shift-byte access."""
    bits = 32 - shift
    if bits >= 30:  # 2**30 and up take two digits
        return ast.Mod, 1 << bits, 4
    return ast.BitAnd, (1 << bits) - 1, 9


def _view_address(node: ast.expr) -> tuple[ast.expr, int] | None:
    """(address, shift) if `node` is a view subscript `m0X[address >> shift]`."""
    if type(node) is not ast.Subscript or type(node.value) is not ast.Name:
        return None
    shift = _VIEW_SHIFTS.get(node.value.id)
    index = node.slice
    if (
        shift is None
        or type(index) is not ast.BinOp
        or type(index.op) is not ast.RShift
        or type(index.right) is not ast.Constant
        or index.right.value != shift
    ):
        return None
    return index.left, shift


def _unwrapped(node: ast.BinOp) -> ast.expr | None:
    """x if `node` is the 32-bit wrap `x & 4294967295` or `x % 4294967296`."""
    if type(node.right) is ast.Constant:
        for op, constant in _WRAPS:
            if type(node.op) is op and node.right.value == constant:
                return node.left
    return None


def _constant_factor(node: ast.BinOp) -> tuple[ast.expr, int, bool] | None:
    """(x, c, c_on_left) if `node` is x * c or c * x with c an int constant."""
    for operand, other, on_left in ((node.right, node.left, False), (node.left, node.right, True)):
        if type(operand) is ast.Constant and type(operand.value) is int:
            return other, operand.value, on_left
    return None


def _stepped(name: str, step: int, shift: int) -> ast.IfExp:
    """(p + step) mod 2**(32-shift) for an index p already in range, as a conditional: a
    compare and an add of one-digit ints are cheaper than a mask or a division."""
    limit = 1 << (32 - shift)

    def p() -> ast.Name:
        return ast.Name(id=name, ctx=ast.Load())

    def plus(amount: int) -> ast.BinOp:
        op = ast.Add() if amount > 0 else ast.Sub()
        return ast.BinOp(left=p(), op=op, right=ast.Constant(abs(amount)))

    if step > 0:
        test = ast.Compare(left=p(), ops=[ast.Lt()], comparators=[ast.Constant(limit - step)])
        return ast.IfExp(test=test, body=plus(step), orelse=plus(step - limit))
    test = ast.Compare(left=p(), ops=[ast.GtE()], comparators=[ast.Constant(-step)])
    return ast.IfExp(test=test, body=plus(step), orelse=plus(limit + step))


def _shifted(node: ast.expr, shift: int) -> ast.expr:
    """node << shift (or >> -shift)."""
    if shift == 0:
        return node
    op = ast.LShift() if shift > 0 else ast.RShift()
    return ast.BinOp(left=node, op=op, right=ast.Constant(abs(shift)))


class _Indexer:
    """Builds `node >> s` for aligned nodes, with the variables of `chosen` (name -> s)
    holding element indices. A subclass rewrites (`expr`) and costs (`cost`) the parts kept
    as they were."""

    chosen: dict[str, int]

    def expr(self, node: ast.expr) -> ast.expr:
        raise NotImplementedError

    def cost(self, node: ast.expr) -> int:
        raise NotImplementedError

    def index_cost(self, node: ast.expr, shift: int, alignment) -> int | None:
        """What `node >> shift` built by `index` costs more than `node` itself; None when it
        cannot be built (a term not known to be a multiple of 2**shift)."""
        found = self._index(node, shift, alignment, build=False)
        return None if found is None else found[1]

    def index(self, node: ast.expr, shift: int, alignment) -> ast.expr:
        """An expression equal to `node >> shift`; `cost` must have answered for it."""
        return self._index(node, shift, alignment, build=True)[0]

    def _kept(self, node: ast.expr, build: bool):
        if build:
            return self.expr(node), 0
        return None, self.cost(node)

    def _index(self, node, shift, alignment, build):  # -> (expr or None, cost) or None
        kind = type(node)
        if kind is ast.Constant:
            value = node.value
            if type(value) is not int or value % (1 << shift):
                return None
            return ast.Constant(value >> shift), 0
        if kind is ast.Name:
            held = self.chosen.get(node.id)
            if held is not None and (held >= shift or alignment.of(node) >= shift):
                name = ast.Name(id=node.id, ctx=ast.Load())
                return _shifted(name, held - shift), _SHIFT * (held != shift)
        elif kind is ast.BinOp:
            found = self._binop(node, shift, alignment, build)
            if found is not None:
                return found
        if alignment.of(node) < shift:
            return None
        kept, cost = self._kept(node, build)
        return (_shifted(kept, -shift) if build else None), cost + _SHIFT

    def _step(self, node: ast.expr, shift: int) -> tuple[str, int] | None:
        """(name, step) if `node` is `p + c` or `p - c`, p an index variable of this shift
        whose value is always a wrapped index, c a small multiple of 2**shift."""
        if shift < 2 or type(node) is not ast.BinOp or type(node.left) is not ast.Name:
            return None
        op, name, constant = type(node.op), node.left.id, node.right
        if (
            (op is not ast.Add and op is not ast.Sub)
            or type(constant) is not ast.Constant
            or type(constant.value) is not int
            or self.chosen.get(name) != shift
            or is_hoisted(name)  # a partial sum, which may exceed 32 bits
        ):
            return None
        step, rest = divmod(constant.value, 1 << shift)
        if rest or not 0 < step < 1 << 16:
            return None
        return name, step if op is ast.Add else -step

    def _binop(self, node: ast.BinOp, shift, alignment, build):
        op = type(node.op)
        inner = _unwrapped(node)
        if inner is not None:
            found = self._index(inner, shift, alignment, build)
            if found is None:
                return None
            stepped = self._step(inner, shift)
            if stepped is not None:
                return (_stepped(*stepped, shift) if build else None), _STEP - _WRAP_COSTS[op]
            wrap, constant, cost = _index_wrap(shift)
            cost += found[1] - _WRAP_COSTS[op]
            if not build:
                return None, cost
            if within(found[0], constant + (wrap is ast.BitAnd)):
                return found[0], cost
            return ast.BinOp(left=found[0], op=wrap(), right=ast.Constant(constant)), cost
        if op is ast.Add or op is ast.Sub:
            left = self._index(node.left, shift, alignment, False)
            right = self._index(node.right, shift, alignment, False)
            if left is None or right is None:
                return None
            if build:
                left = self._index(node.left, shift, alignment, True)
                right = self._index(node.right, shift, alignment, True)
                return ast.BinOp(left=left[0], op=node.op, right=right[0]), left[1] + right[1]
            return None, left[1] + right[1]
        if op is ast.LShift and type(node.right) is ast.Constant and node.right.value >= shift:
            rest = node.right.value - shift
            kept, cost = self._kept(node.left, build)
            return (_shifted(kept, rest) if build else None), cost - _SHIFT * (rest == 0)
        if op is ast.Mult:
            factor = _constant_factor(node)
            if factor is not None and factor[1] % (1 << shift) == 0:
                operand, constant, on_left = factor
                constant >>= shift
                kept, cost = self._kept(operand, build)
                if constant == 1:
                    return kept, cost - _SHIFT
                if not build:
                    return None, cost
                sides = (
                    (ast.Constant(constant), kept) if on_left else (kept, ast.Constant(constant))
                )
                return ast.BinOp(left=sides[0], op=ast.Mult(), right=sides[1]), cost
        return None


class _Rewrite(_Indexer):
    """Rewrites statements for a choice of variables, or says what that would cost."""

    def __init__(self, chosen: dict[str, int], alignments: Alignments):
        self.chosen = chosen
        self.alignments = alignments
        self.alignment = None

    def statement_cost(self, node: ast.stmt, state: State | None) -> int:
        """What `node`'s own expressions cost more, rewritten, than they do now."""
        self.alignment = None if state is None else self.alignments(state)
        defined = _defined(node)
        if defined in self.chosen:
            return self.index_cost(node.value, self.chosen[defined], self.alignment)
        return sum(self.cost(expr) for expr in evaluated(node))

    def statement(self, node: ast.stmt, state: State | None) -> None:
        self.alignment = None if state is None else self.alignments(state)
        defined = _defined(node)
        if defined in self.chosen:
            node.value = self.index(node.value, self.chosen[defined], self.alignment)
            return
        rewrite_statement(node, self.expr)

    def _address(self, node: ast.expr) -> tuple[ast.expr, int, int] | None:
        """(address, shift, cost) if `node` is a view access better indexed from its terms."""
        found = _view_address(node) if self.alignment is not None else None
        if found is None:
            return None
        address, shift = found
        cost = self.index_cost(address, shift, self.alignment)
        if cost is None or cost - _SHIFT >= self.cost(address):
            return None
        return address, shift, cost - _SHIFT

    def cost(self, node: ast.expr) -> int:
        kind = type(node)
        if kind is ast.Name:
            return _SHIFT if node.id in self.chosen and type(node.ctx) is ast.Load else 0
        if kind is ast.Constant:
            return 0
        found = self._address(node)
        if found is not None:
            return found[2]
        return sum(self.cost(child) for child in children(node))

    def expr(self, node: ast.expr) -> ast.expr:
        kind = type(node)
        if kind is ast.Name:
            shift = self.chosen.get(node.id)
            if shift is None or type(node.ctx) is not ast.Load:
                return node
            return _shifted(ast.Name(id=node.id, ctx=ast.Load()), shift)
        if kind is ast.Constant:
            return node
        found = self._address(node)
        if found is not None:
            node = copy.copy(node)
            node.slice = self.index(found[0], found[1], self.alignment)
            return node
        return with_children(node, self.expr)


def _defined(node: ast.stmt) -> str | None:
    """The variable a `name = value` statement defines."""
    if type(node) is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:
        return node.targets[0].id
    return None


class _Survey:
    """Every statement with its state and loop weight; which statements read or define each
    variable; the variables in view addresses, with the access widths; which variables feed
    the definitions of which."""

    def __init__(
        self, states: dict[int, tuple[ast.stmt, State]], viewed: set[int], reads: StatementReads
    ):
        self.states = states
        self.viewed = viewed
        self.reads = reads
        self.statements: list[tuple[ast.stmt, State | None, int]] = []
        self.touching: defaultdict[str, list[int]] = defaultdict(list)  # -> statements
        self.definitions: defaultdict[str, list[int]] = defaultdict(list)
        self.shifts: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.sources: defaultdict[str, set[str]] = defaultdict(set)  # read by var's definitions
        self.unsupported: set[str] = set()  # written other than by `name = value`
        self.addressed: list[int] = []  # statements with view accesses

    def block(self, statements: list[ast.stmt], weight: int) -> None:
        for node in statements:
            entry = self.states.get(id(node))
            state = entry[1] if entry is not None and entry[0] is node else None
            position = len(self.statements)
            self.statements.append((node, state, weight))
            defined = _defined(node)
            if defined is not None:
                self.definitions[defined].append(position)
            elif type(node) is ast.Assign:
                for target in node.targets:
                    self.unsupported.update(stored_names(target))
            entry = self.reads.get(id(node))
            read = entry[1] if entry is not None and entry[0] is node else set()
            if id(node) in self.viewed:
                for expr in evaluated(node):
                    for sub in walk(expr):
                        found = _view_address(sub)
                        if found is not None:
                            self.addressed.append(position)
                            for var in names(found[0]):
                                self.shifts[var][found[1]] += weight
            if defined is not None:
                self.sources[defined] |= read
            for var in read:
                self.touching[var].append(position)
            if defined is not None:
                self.touching[defined].append(position)
            inner = min(weight * _LOOP_WEIGHT, _MAX_WEIGHT) if type(node) is ast.While else weight
            for nested in nested_blocks(node):
                self.block(nested, inner)


def _choose(survey: _Survey, own: set[str], alignments: Alignments) -> dict[str, int]:
    """The variables worth holding as element indices, each with its shift: starting from
    every variable that may, drop those whose statements cost more with them until none do."""
    shifts: dict[str, int] = {}
    for var, counts in survey.shifts.items():
        shifts[var] = max(counts.items(), key=lambda item: (item[1], -item[0]))[0]
    # A variable read in the definition of one that may hold an index may hold one too.
    pending = list(shifts)
    while pending:
        var = pending.pop()
        for source in survey.sources[var]:
            if source not in shifts:
                shifts[source] = shifts[var]
                pending.append(source)
    chosen: dict[str, int] = {}
    for var, shift in shifts.items():
        definitions = survey.definitions.get(var)
        if var not in own or var in survey.unsupported or not definitions:
            continue
        if all(
            state is not None and alignments(state).of(node.value) >= shift
            for node, state, _ in (survey.statements[k] for k in definitions)
        ):
            chosen[var] = shift
    rewrite = _Rewrite(chosen, alignments)

    def cost(var: str) -> int:
        return sum(
            weight * rewrite.statement_cost(node, state)
            for node, state, weight in (survey.statements[k] for k in set(survey.touching[var]))
        )

    while chosen:
        worse = []
        for var in sorted(chosen):
            with_it = cost(var)
            shift = chosen.pop(var)
            if with_it >= cost(var):
                worse.append(var)
            chosen[var] = shift
        if not worse:
            break
        for var in worse:
            del chosen[var]
    return chosen


def use_element_indices(
    func: ast.FunctionDef,
    states: dict[int, tuple[ast.stmt, State]],
    viewed: set[int],
    reads: StatementReads,
    own: set[str],
    alignments: Alignments,
) -> None:
    """Rewrite `func`'s view addresses as element indices, and hold its pointer variables
    as element indices where that saves shifts.

    `states`: statement id -> (statement, alignment state before it), for the statements that
    access memory through views and the assignments to variables their addresses read.
    `viewed`: the ids of the statements that access views. `reads`: what each statement reads
    (webs.StatementReads). `own`: the function's local variables other than parameters.
    """
    survey = _Survey(states, viewed, reads)
    survey.block(func.body, 1)
    chosen = _choose(survey, own, alignments)
    rewrite = _Rewrite(chosen, alignments)
    changed = set(survey.addressed).union(*(survey.touching[var] for var in chosen))
    for position in sorted(changed):
        node, state, _ = survey.statements[position]
        rewrite.statement(node, state)
