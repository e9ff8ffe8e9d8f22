"""Aligned memory accesses through typed views, where the address is proven aligned.

A 16/32/64-bit access through `struct` costs about twice an index into a typed memoryview
(`m0I[addr >> 2]`), but a view indexes whole elements, so it can serve only an address that is
a multiple of the access width. Wasm's alignment immediate is a hint, not a promise, so this
pass proves alignment from the generated code itself: a forward dataflow over each function
(C compilers reuse a local for values of different alignment) tracks, before every statement,
which variables are multiples of which power of two. Parameters and closure variables
(globals) are unknown. An unproven access keeps its `struct` call: measured, a test of the
alignment at run time costs what the view saves.

It runs on the lowered AST, after all other lowering: loads and stores keep one shape until
here, and the pass sees every assignment the lowering made, temporaries included.
"""

from __future__ import annotations

import ast
import functools

from .dataflow import ForwardFlow, Unsupported
from .env import memory_bytes_id, memory_view_id
from .exprs import (
    children,
    evaluated,
    names,
    nested_blocks,
    no_reentry,
    only_memory_traps,
    stored_names,
    trap_free,
)
from .global_alignment import EVERYTHING, trailing_zeros
from .indices import use_element_indices
from .signed import load_signed_where_compared_signed
from .webs import StatementReads, split_webs

# accessor -> (view format, log2 of the width)
_LOAD_VIEWS = {
    "load_u16": ("H", 1),
    "load_s16": ("h", 1),
    "load_u32": ("I", 2),
    "load_s32": ("i", 2),
    "load_u64": ("Q", 3),
    "load_f64": ("d", 3),
}
_STORE_VIEWS = {
    "store_u16": ("H", 1),
    "store_u32": ("I", 2),
    "store_u64": ("Q", 3),
    "store_f64": ("d", 3),
}
_ACCESSORS = {**_LOAD_VIEWS, **_STORE_VIEWS}
UNKNOWN = 0
# Operations whose result is a multiple of what both operands are multiples of.
_MEETS = frozenset({ast.Add, ast.Sub, ast.BitOr, ast.BitXor})


class Alignment:
    """log2 of the largest power of two known to divide an expression's value."""

    def __init__(self, known: dict[str, int], facts: dict[str, int]):
        self.known = known
        self.facts = facts  # variables aligned at all times: private globals like the stack pointer

    def of(self, node: ast.expr) -> int:
        kind = type(node)  # exact types: generated code has no subclasses of these
        if kind is ast.Name:
            known = self.known.get(node.id)
            return self.facts.get(node.id, UNKNOWN) if known is None else known
        if kind is ast.BinOp:
            return self._binop(node)
        if kind is ast.Constant:
            value = node.value
            if type(value) is int:
                return trailing_zeros(value)
            return UNKNOWN
        if kind is ast.IfExp:
            return min(self.of(node.body), self.of(node.orelse))
        return UNKNOWN

    def _binop(self, node: ast.BinOp) -> int:
        op, left, right = type(node.op), node.left, node.right
        if op in _MEETS:
            return min(self.of(left), self.of(right))
        if op is ast.Mult:
            return min(self.of(left) + self.of(right), EVERYTHING)
        if op is ast.BitAnd:
            return max(self.of(left), self.of(right))
        if op is ast.LShift and type(right) is ast.Constant:
            return min(self.of(left) + right.value, EVERYTHING)
        if op is ast.Mod and type(right) is ast.Constant:
            # x % 2**k keeps x's low k bits: the wrap of an add or sub.
            divisor = right.value
            if isinstance(divisor, int) and divisor > 0 and divisor & (divisor - 1) == 0:
                return min(self.of(left), divisor.bit_length() - 1)
        return UNKNOWN


def _element_index(addr: ast.expr, shift: int) -> ast.expr:
    if isinstance(addr, ast.Constant):
        return ast.Constant(addr.value >> shift)
    return ast.BinOp(left=addr, op=ast.RShift(), right=ast.Constant(shift))


def _view(fmt: str, ctx: ast.expr_context) -> ast.Name:
    return ast.Name(id=memory_view_id(0, fmt), ctx=ctx)


def _accessor(node: ast.expr, table: dict) -> tuple[str, int] | None:
    """(format, shift) if `node` calls one of `table`'s accessors on memory 0."""
    if type(node) is not ast.Call or type(node.func) is not ast.Name:
        return None
    found = table.get(node.func.id)
    if found is None:
        return None
    buffer = node.args[0]
    if type(buffer) is not ast.Name or buffer.id != memory_bytes_id(0):
        return None
    return found


# Webs are split in functions of at most this many statements (that read a variable): the
# reaching definitions grow with a function's length times its definitions, and the loops
# webs pay off in rarely sit in the longest functions.
_MAX_WEBS_STATEMENTS = 400


class _Scan:
    """One pass over the function: which statements hold accesses, which variables it
    assigns, which are nonlocal (globals, which calls may write), and what each statement
    reads (the names its own expressions load)."""

    def __init__(self) -> None:
        self.candidates: set[int] = set()
        self.stored: set[str] = set()
        self.nonlocals: set[str] = set()
        self.in_addresses: set[str] = set()  # variables some access's address reads
        self.in_loop_addresses: set[str] = set()  # those read by an access in a loop
        self.sources: dict[str, set[str]] = {}  # variable -> what its definitions read
        self.reads: StatementReads = {}

    def pointers(self, roots: set[str] | None = None) -> set[str]:
        """The variables read in addresses (or `roots`), and those their definitions read,
        transitively: those lower/indices.py may keep as element indices."""
        found = set(self.in_addresses if roots is None else roots)
        pending = list(found)
        while pending:
            for source in self.sources.get(pending.pop(), ()):
                if source not in found:
                    found.add(source)
                    pending.append(source)
        return found

    def block(self, statements: list[ast.stmt], in_loop: bool = False) -> None:
        for node in statements:
            kind = type(node)
            if kind is ast.Nonlocal:
                self.nonlocals.update(node.names)
                continue
            reads = None
            if kind is ast.Assign:
                targets = node.targets
                for target in targets:
                    self.stored.update(stored_names(target))
                if len(targets) == 1 and type(targets[0]) is ast.Name:
                    reads = self.sources.setdefault(targets[0].id, set())
            read: set[str] = set()
            # Every function with memory accesses comes through here: a plain stack, not walk().
            pending = evaluated(node)
            while pending:
                sub = pending.pop()
                kind = type(sub)
                if kind is ast.Name:
                    if type(sub.ctx) is ast.Load:
                        read.add(sub.id)
                    elif reads is not None:
                        reads.add(sub.id)
                    continue
                if kind is ast.Constant:
                    continue
                if kind is ast.Call and _accessor(sub, _ACCESSORS):
                    self.candidates.add(id(node))
                    address = names(sub.args[1])
                    self.in_addresses |= address
                    if in_loop:
                        self.in_loop_addresses |= address
                pending.extend(children(sub))
            if read:
                self.reads[id(node)] = (node, read)
                if reads is not None:
                    reads |= read
            for statements in nested_blocks(node):
                self.block(statements, in_loop or type(node) is ast.While)


State = dict[str, int]  # variable -> alignment (above 0); a variable not in it is unknown


class _Flow(ForwardFlow[State]):
    """The alignment state before each statement that holds an access.

    A loop's body is walked until the state at its head stops changing; the last walk of a
    statement is then the one made from fixed points, so it is the state recorded. A block
    owns the state it is given and updates it in place.
    """

    def __init__(self, scan: _Scan, facts: dict[str, int]) -> None:
        super().__init__()
        self.facts = facts
        self.candidates = scan.candidates
        self.volatile = scan.nonlocals  # never tracked: written where the flow cannot see
        self.pointers = scan.pointers()
        self.alignment = Alignment({}, facts)  # of the state at hand: one, not one per statement
        self.before: dict[int, State] = {}
        # statement id -> (statement, state before it), for assignments to address variables
        self.assignments: dict[int, tuple[ast.stmt, State]] = {}

    def join(self, states: list[State]) -> State:
        first, *rest = states
        joined = dict(first)
        for other in rest:
            for var in list(joined):
                if var in other:
                    joined[var] = min(joined[var], other[var])
                else:
                    del joined[var]
        return joined

    def copy(self, state: State) -> State:
        return dict(state)

    def transfer(self, node: ast.stmt, state: State) -> State:
        key = id(node)
        if key in self.candidates:
            self.before[key] = dict(state)
        if type(node) is not ast.Assign:
            return state
        targets = node.targets
        if len(targets) != 1 or type(targets[0]) is not ast.Name:
            for target in targets:
                for var in stored_names(target):
                    state.pop(var, None)
            return state
        var = targets[0].id
        if var in self.pointers:
            self.assignments[key] = (node, dict(state))
        # The value's alignment only matters to a variable the flow tracks.
        value = UNKNOWN
        if var not in self.volatile:
            self.alignment.known = state
            value = self.alignment.of(node.value)
        if value:
            state[var] = value
        else:
            state.pop(var, None)
        return state


class _UseViews:
    """Rewrites the accesses of each statement under the state recorded before it."""

    def __init__(
        self,
        before: dict[int, State],
        own: set[str],
        facts: dict[str, int],
        states: dict[int, tuple[ast.stmt, State]],
        reads: StatementReads,
    ):
        self.before = before
        self.own = own  # the function's own variables: no call can change them
        self.facts = facts
        self.alignment = Alignment({}, facts)
        self.states = states  # gains each rewritten statement, with the state before it
        self.reads = reads  # follows a statement replaced by a new one
        self.views_made = 0
        self.viewed: set[int] = set()  # the statements that now access views

    def block(self, statements: list[ast.stmt]) -> None:
        for k, node in enumerate(statements):
            state = self.before.get(id(node))
            if state is not None:
                self.alignment = Alignment(state, self.facts)
                made = self.views_made
                statements[k] = new = self.statement(node)
                self.states[id(new)] = (new, state)
                if new is not node:
                    # A store now assigns to a view: it reads the view instead of the memory
                    # and the accessor, none of them a variable of the function.
                    self.reads[id(new)] = (new, self.reads.pop(id(node))[1])
                if self.views_made != made:
                    self.viewed.add(id(new))
            for nested in nested_blocks(node):
                self.block(nested)

    def statement(self, node: ast.stmt) -> ast.stmt:
        if isinstance(node, (ast.If, ast.While)):
            node.test = self.expr(node.test)
            return node
        if type(node) is ast.Expr and _accessor(node.value, _STORE_VIEWS):
            return self.store(node)
        for field in ("value", "exc"):
            child = getattr(node, field, None)
            if isinstance(child, ast.expr):
                setattr(node, field, self.expr(child))
        return node

    def expr(self, node: ast.expr) -> ast.expr:
        kind = type(node)
        if kind is ast.Name or kind is ast.Constant:
            return node
        for field in node._fields:  # not ast.iter_fields: its generator costs more
            value = getattr(node, field, None)
            if isinstance(value, ast.expr):
                setattr(node, field, self.expr(value))
            elif type(value) is list and value and isinstance(value[0], ast.expr):
                value[:] = [self.expr(v) for v in value]
        if kind is ast.Subscript:
            return self.load(node)
        return node

    def load(self, node: ast.Subscript) -> ast.expr:
        if not (type(node.slice) is ast.Constant and node.slice.value == 0):
            return node
        found = _accessor(node.value, _LOAD_VIEWS)
        if found is None:
            return node
        fmt, shift = found
        addr = node.value.args[1]
        # The view is read before the address is computed: the address must not grow memory.
        if self.alignment.of(addr) < shift or not no_reentry(addr):
            return node
        self.views_made += 1
        return ast.Subscript(
            value=_view(fmt, ast.Load()), slice=_element_index(addr, shift), ctx=ast.Load()
        )

    def store(self, node: ast.Expr) -> ast.stmt:
        call = node.value
        call.args[1:] = [self.expr(a) for a in call.args[1:]]
        fmt, shift = _accessor(call, _STORE_VIEWS)
        _, addr, value = call.args
        if self.alignment.of(addr) < shift or not no_reentry(addr):
            return node
        # `view[index] = value` computes the value first, then reads the view, then the index,
        # which must not grow memory. Wasm computes the address first: either the value has
        # no effect (nor trap); or the address has none and reads only variables the value
        # cannot change; or neither has an effect and both can fail only as out-of-bounds
        # accesses, the same trap whichever comes first.
        if not trap_free(value):
            reads = names(addr)
            if not (trap_free(addr) and reads <= self.own) and not (
                only_memory_traps(value) and only_memory_traps(addr)
            ):
                return node
        target = ast.Subscript(
            value=_view(fmt, ast.Load()), slice=_element_index(addr, shift), ctx=ast.Store()
        )
        self.views_made += 1
        return ast.Assign(targets=[target], value=value, lineno=0)


def use_aligned_views(func: ast.FunctionDef, facts: dict[str, int]) -> ast.FunctionDef:
    """Rewrite `func`'s provably aligned 16/32/64-bit accesses of memory 0 to typed views.

    `facts`: variables whose alignment holds at all times (lower/global_alignment.py).
    """
    scan = _Scan()
    scan.block(func.body)
    if not scan.candidates:
        return func
    flow = _Flow(scan, facts)
    try:
        flow.block(func.body, {})
    except Unsupported:
        return func
    params = {a.arg for a in func.args.args}
    own = (scan.stored | params) - scan.nonlocals
    states = flow.assignments
    # What each statement reads, from the scan: a view access reads other names than the
    # accessor call it replaced, but the same variables.
    reads = scan.reads
    views = _UseViews(flow.before, own, facts, states, reads)
    views.block(func.body)
    if not views.viewed or not scan.in_loop_addresses:
        return func  # what follows pays off in loops only
    # A parameter's webs split too: the one it has on entry keeps its name.
    renames, new_names = (
        split_webs(func, _mixed(states, scan.pointers(scan.in_loop_addresses) & own, facts), reads)
        if len(reads) <= _MAX_WEBS_STATEMENTS
        else ({}, set())
    )
    own -= params
    for key, renamed in renames.items():
        node, read = reads[key]
        reads[key] = node, {renamed.get(var, var) for var in read}
        entry = states.get(key)
        if entry is not None and entry[0] is node:
            state = entry[1]
            for old, new in renamed.items():
                if old in state:
                    state[new] = state.pop(old)
    alignments = functools.partial(Alignment, facts=facts)
    use_element_indices(func, states, views.viewed, reads, own | new_names, alignments)
    load_signed_where_compared_signed(func, own | new_names)
    return func


def _mixed(
    states: dict[int, tuple[ast.stmt, State]], variables: set[str], facts: dict[str, int]
) -> set[str]:
    """Those of `variables` assigned both aligned and unaligned values: a local that C code
    reuses for a pointer and for something else (lower/webs.py splits them)."""
    seen: dict[str, set[bool]] = {}
    for node, state in states.values():
        if type(node) is ast.Assign and type(node.targets[0]) is ast.Name:
            var = node.targets[0].id
            if var in variables:
                seen.setdefault(var, set()).add(Alignment(state, facts).of(node.value) > 0)
    return {var for var, kinds in seen.items() if len(kinds) == 2}
