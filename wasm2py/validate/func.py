"""Validation of function bodies: the spec's algorithm (appendix "Validation Algorithm").

One `_Body` holds the operand stack (value types, None for the unknown type a polymorphic stack
yields) and the control stack of `_Frame`s. Each instruction goes to a handler chosen by opcode;
instructions with a `sig` in opcodes.OPS and no other rule share one generic handler, so the
table is the single source of their typing. Handlers raise `Invalid`; the loop adds the offset.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from ..errors import ValidationError
from ..module import Code, Instr, Module
from ..opcodes import OPS, Op
from ..types import NUM_TYPES, REF_TYPES, BlockType, FuncType
from .context import Context, Invalid, feature_error, fmt_types, mismatch

# Locals beyond this many are refused: the translator gives each its own Python variable.
MAX_LOCALS = 50_000  # wasmparser's limit too


class _Frame:
    """One entry of the control stack."""

    __slots__ = ("kind", "params", "results", "labels", "height", "unreachable")

    def __init__(self, kind: str, params: list, results: list, height: int):
        self.kind = kind  # "function", "block", "loop", "if", "else"
        self.params = params
        self.results = results
        # A branch to a loop goes back to its start and carries its params; to others, results.
        self.labels = params if kind == "loop" else results
        self.height = height  # operand-stack height at entry, below the params
        self.unreachable = False  # after br/return/unreachable the stack is polymorphic


class _Body:
    """The typing state of one function body."""

    __slots__ = ("ctx", "vals", "ctrls", "frame", "height", "locals")

    def __init__(self, ctx: Context, locals_: list):
        self.ctx = ctx
        self.vals: list = []
        self.ctrls: list[_Frame] = []
        self.frame: _Frame  # = ctrls[-1], cached because every pop reads it
        self.height = 0  # = frame.height, cached likewise
        self.locals = locals_

    # -- operand stack -------------------------------------------------------------------

    def pop(self):
        """Pop any value; None when the stack is polymorphic and empty."""
        vals = self.vals
        if len(vals) > self.height:
            return vals.pop()
        if self.frame.unreachable:
            return None
        raise mismatch(["any"], [])

    def pop_expect(self, expect: str):
        """Pop a value of type `expect` (the slow path; handlers try a fast one first)."""
        vals = self.vals
        if len(vals) > self.height:
            actual = vals[-1]
            if actual != expect and actual is not None:
                raise mismatch([expect], [actual])
            return vals.pop()
        if self.frame.unreachable:
            return None
        raise mismatch([expect], [])

    def pop_vals(self, types: list) -> list:
        """Pop values of `types` (pushed in that order) and return what was popped."""
        vals, n = self.vals, len(types)
        if not n:
            return []
        if len(vals) - n >= self.height and vals[-n:] == types:
            del vals[-n:]
            return types
        available = vals[max(self.height, len(vals) - n) :]
        popped = []
        try:
            for t in reversed(types):
                popped.append(self.pop_expect(t))
        except Invalid:
            raise mismatch(types, available) from None
        popped.reverse()
        return popped

    # -- control stack -------------------------------------------------------------------

    def push_ctrl(self, kind: str, params: list, results: list) -> None:
        frame = _Frame(kind, params, results, len(self.vals))
        self.ctrls.append(frame)
        self.frame, self.height = frame, frame.height
        self.vals.extend(params)

    def pop_ctrl(self) -> _Frame:
        frame, vals = self.frame, self.vals
        if vals[frame.height :] != frame.results:
            actual = vals[frame.height :]
            self.pop_vals(frame.results)
            if len(vals) != frame.height:
                raise mismatch(frame.results, actual)
        del vals[frame.height :]
        self.ctrls.pop()
        if self.ctrls:
            self.frame = self.ctrls[-1]
            self.height = self.frame.height
        return frame

    def set_unreachable(self) -> None:
        del self.vals[self.height :]
        self.frame.unreachable = True

    def label(self, depth: int) -> list:
        """The types a branch to relative label `depth` carries."""
        if not 0 <= depth < len(self.ctrls):
            raise Invalid(f"unknown label {depth}")
        return self.ctrls[-1 - depth].labels


Handler = Callable[[_Body, Instr], None]

# -- instructions typed by their `sig` alone -------------------------------------------------


def _simple(op: Op) -> Handler:
    """A handler that pops the row's params and pushes its results, fast paths for 0-2 params."""
    params, results = (list(side) for side in op.sig)  # type: ignore[union-attr]
    n = len(params)
    if n == 0:

        def handle(b: _Body, instr: Instr) -> None:
            b.vals.extend(results)

    elif n == 1 and len(results) == 1:
        (p,), (r,) = params, results

        def handle(b: _Body, instr: Instr) -> None:
            vals = b.vals
            if len(vals) > b.height and vals[-1] == p:
                vals[-1] = r
            else:
                b.pop_vals(params)
                vals.append(r)

    elif n == 2 and len(results) == 1:
        (r,) = results

        def handle(b: _Body, instr: Instr) -> None:
            vals = b.vals
            if len(vals) - 2 >= b.height and vals[-2:] == params:
                del vals[-1]
                vals[-1] = r
            else:
                b.pop_vals(params)
                vals.append(r)

    else:

        def handle(b: _Body, instr: Instr) -> None:
            b.pop_vals(params)
            b.vals.extend(results)

    return handle


# -- control ------------------------------------------------------------------------------


def block_signature(ctx: Context, bt: BlockType) -> tuple[list, list]:
    """The (params, results) of a block type, as lists; cached per context."""
    sig = ctx.block_types.get(bt)
    if sig is not None:
        return sig
    if bt is None:
        sig = ([], [])
    elif isinstance(bt, str):
        ctx.check_valtype(bt)
        sig = ([], [bt])
    else:
        ft = ctx.type_at(bt)
        # Type indices as block types came with multi-value, even for [] -> [] or [] -> [t].
        err = feature_error(ctx, "multi-value", "a block type given as a type index")
        if err:
            raise err
        sig = (list(ft.params), list(ft.results))
    ctx.block_types[bt] = sig
    return sig


def _unreachable(b: _Body, instr: Instr) -> None:
    b.set_unreachable()


def _nop(b: _Body, instr: Instr) -> None:
    pass


def _block(b: _Body, instr: Instr) -> None:
    params, results = block_signature(b.ctx, instr.imm)
    b.pop_vals(params)
    b.push_ctrl(instr.op.family, params, results)


def _if(b: _Body, instr: Instr) -> None:
    params, results = block_signature(b.ctx, instr.imm)
    b.pop_expect("i32")
    b.pop_vals(params)
    b.push_ctrl("if", params, results)


def _else(b: _Body, instr: Instr) -> None:
    if b.frame.kind != "if":
        raise Invalid("else without a matching if")
    frame = b.pop_ctrl()
    b.push_ctrl("else", frame.params, frame.results)


def _end(b: _Body, instr: Instr) -> None:
    frame = b.pop_ctrl()
    if frame.kind == "if" and frame.params != frame.results:
        # Without an else the params pass straight through, so they must be the results.
        raise Invalid(
            f"type mismatch: if without else must leave {fmt_types(frame.results)} "
            f"but passes on {fmt_types(frame.params)}"
        )
    b.vals.extend(frame.results)


def _br(b: _Body, instr: Instr) -> None:
    b.pop_vals(b.label(instr.imm))
    b.set_unreachable()


def _br_if(b: _Body, instr: Instr) -> None:
    b.pop_expect("i32")
    labels = b.label(instr.imm)
    b.pop_vals(labels)
    b.vals.extend(labels)


def _br_table(b: _Body, instr: Instr) -> None:
    targets, default = instr.imm
    b.pop_expect("i32")
    default_labels = b.label(default)
    arity = len(default_labels)
    for depth in targets:
        labels = b.label(depth)
        if len(labels) != arity:
            raise Invalid(
                f"type mismatch: br_table targets carry {fmt_types(default_labels)} "
                f"and {fmt_types(labels)}"
            )
        b.vals.extend(b.pop_vals(labels))
    b.pop_vals(default_labels)
    b.set_unreachable()


def _return(b: _Body, instr: Instr) -> None:
    b.pop_vals(b.ctrls[0].results)
    b.set_unreachable()


def _call(b: _Body, instr: Instr) -> None:
    ft = b.ctx.func_at(instr.imm)
    b.pop_vals(list(ft.params))
    b.vals.extend(ft.results)


def _call_indirect(b: _Body, instr: Instr) -> None:
    type_index, table_index = instr.imm
    table = b.ctx.table_at(table_index)
    if table.elem != "funcref":
        raise Invalid(f"type mismatch: call_indirect needs a funcref table, not {table.elem}")
    ft = b.ctx.type_at(type_index)
    b.pop_expect("i32")
    b.pop_vals(list(ft.params))
    b.vals.extend(ft.results)


# -- parametric ---------------------------------------------------------------------------


def _drop(b: _Body, instr: Instr) -> None:
    b.pop()


def _select(b: _Body, instr: Instr) -> None:
    b.pop_expect("i32")
    t1, t2 = b.pop(), b.pop()
    # Untyped select only takes numbers: a translator must not need the type of a reference.
    if (t1 is not None and t1 not in NUM_TYPES) or (t2 is not None and t2 not in NUM_TYPES):
        raise mismatch(["num", "num", "i32"], [t2, t1, "i32"])
    if t1 != t2 and t1 is not None and t2 is not None:
        raise mismatch([t1, t1, "i32"], [t2, t1, "i32"])
    b.vals.append(t2 if t1 is None else t1)


def _select_typed(b: _Body, instr: Instr) -> None:
    types = instr.imm
    if len(types) != 1:
        raise Invalid("invalid result arity")
    b.ctx.check_valtype(types[0])
    b.pop_vals([types[0], types[0], "i32"])
    b.vals.append(types[0])


# -- variables ----------------------------------------------------------------------------


def _local_type(b: _Body, index: int) -> str:
    if not 0 <= index < len(b.locals):
        raise Invalid(f"unknown local {index}")
    return b.locals[index]


def _local_get(b: _Body, instr: Instr) -> None:
    b.vals.append(_local_type(b, instr.imm))


def _local_set(b: _Body, instr: Instr) -> None:
    t = _local_type(b, instr.imm)
    vals = b.vals
    if len(vals) > b.height and vals[-1] == t:
        vals.pop()
    else:
        b.pop_vals([t])


def _local_tee(b: _Body, instr: Instr) -> None:
    t = _local_type(b, instr.imm)
    vals = b.vals
    if len(vals) > b.height and vals[-1] == t:
        return
    b.pop_vals([t])
    vals.append(t)


def _global_get(b: _Body, instr: Instr) -> None:
    b.vals.append(b.ctx.global_at(instr.imm).valtype)


def _global_set(b: _Body, instr: Instr) -> None:
    gt = b.ctx.global_at(instr.imm)
    if not gt.mutable:
        raise Invalid("global is immutable")
    b.pop_vals([gt.valtype])


# -- tables -------------------------------------------------------------------------------


def _table_get(b: _Body, instr: Instr) -> None:
    t = b.ctx.table_at(instr.imm).elem
    b.pop_expect("i32")
    b.vals.append(t)


def _table_set(b: _Body, instr: Instr) -> None:
    t = b.ctx.table_at(instr.imm).elem
    b.pop_vals(["i32", t])


def _table_size(b: _Body, instr: Instr) -> None:
    b.ctx.table_at(instr.imm)
    b.vals.append("i32")


def _table_grow(b: _Body, instr: Instr) -> None:
    t = b.ctx.table_at(instr.imm).elem
    b.pop_vals([t, "i32"])
    b.vals.append("i32")


def _table_fill(b: _Body, instr: Instr) -> None:
    t = b.ctx.table_at(instr.imm).elem
    b.pop_vals(["i32", t, "i32"])


def _table_copy(b: _Body, instr: Instr) -> None:
    dst, src = instr.imm
    dst_type, src_type = b.ctx.table_at(dst).elem, b.ctx.table_at(src).elem
    if dst_type != src_type:
        raise Invalid(f"type mismatch: table.copy from a {src_type} table into a {dst_type} one")
    b.pop_vals(["i32", "i32", "i32"])


def _table_init(b: _Body, instr: Instr) -> None:
    elem, table = instr.imm
    table_type = b.ctx.table_at(table).elem
    elem_type = b.ctx.elem_at(elem)
    if table_type != elem_type:
        raise Invalid(
            f"type mismatch: table.init of {elem_type} elements into a {table_type} table"
        )
    b.pop_vals(["i32", "i32", "i32"])


def _elem_drop(b: _Body, instr: Instr) -> None:
    b.ctx.elem_at(instr.imm)


# -- memory -------------------------------------------------------------------------------


def _memory_access(op: Op) -> Handler:
    """Loads and stores: a memory must exist and the alignment must not exceed the width."""
    max_align = op.data["width"].bit_length() - 1
    typed = _simple(op)

    def handle(b: _Body, instr: Instr) -> None:
        b.ctx.memory_at(0)
        if instr.imm[0] > max_align:
            raise Invalid("alignment must not be larger than natural")
        typed(b, instr)

    return handle


def _memory_op(op: Op) -> Handler:
    """memory.size/grow/fill: their memory must exist."""
    typed = _simple(op)

    def handle(b: _Body, instr: Instr) -> None:
        b.ctx.memory_at(instr.imm)
        typed(b, instr)

    return handle


def _memory_copy(op: Op) -> Handler:
    typed = _simple(op)

    def handle(b: _Body, instr: Instr) -> None:
        dst, src = instr.imm
        b.ctx.memory_at(dst)
        b.ctx.memory_at(src)
        typed(b, instr)

    return handle


def _memory_init(op: Op) -> Handler:
    typed = _simple(op)

    def handle(b: _Body, instr: Instr) -> None:
        data, memory = instr.imm
        b.ctx.memory_at(memory)
        b.ctx.data_at(data)
        typed(b, instr)

    return handle


def _data_drop(b: _Body, instr: Instr) -> None:
    b.ctx.data_at(instr.imm)


# -- references ---------------------------------------------------------------------------


def _ref_null(b: _Body, instr: Instr) -> None:
    b.ctx.check_valtype(instr.imm)
    b.vals.append(instr.imm)


def _ref_is_null(b: _Body, instr: Instr) -> None:
    t = b.pop()
    if t is not None and t not in REF_TYPES:
        raise mismatch(["ref"], [t])
    b.vals.append("i32")


def _ref_func(b: _Body, instr: Instr) -> None:
    b.ctx.func_at(instr.imm)
    if instr.imm not in b.ctx.refs:
        raise Invalid("undeclared function reference")
    b.vals.append("funcref")


# -- dispatch -----------------------------------------------------------------------------

# Families whose handler is shared by all their rows.
_BY_FAMILY: dict[str, Handler] = {
    "unreachable": _unreachable,
    "nop": _nop,
    "block": _block,
    "loop": _block,
    "if": _if,
    "else": _else,
    "end": _end,
    "br": _br,
    "br_if": _br_if,
    "br_table": _br_table,
    "return": _return,
    "call": _call,
    "call_indirect": _call_indirect,
    "drop": _drop,
    "select": _select,
    "local.get": _local_get,
    "local.set": _local_set,
    "local.tee": _local_tee,
    "global.get": _global_get,
    "global.set": _global_set,
    "table.get": _table_get,
    "table.set": _table_set,
    "table.size": _table_size,
    "table.grow": _table_grow,
    "table.fill": _table_fill,
    "table.copy": _table_copy,
    "table.init": _table_init,
    "elem.drop": _elem_drop,
    "data.drop": _data_drop,
    "ref.null": _ref_null,
    "ref.is_null": _ref_is_null,
    "ref.func": _ref_func,
}

# Families whose handler is built per row from the row's data.
_FACTORIES: dict[str, Callable[[Op], Handler]] = {
    "numeric": _simple,
    "const": _simple,
    "load": _memory_access,
    "store": _memory_access,
    "memory.size": _memory_op,
    "memory.grow": _memory_op,
    "memory.fill": _memory_op,
    "memory.copy": _memory_copy,
    "memory.init": _memory_init,
}


def _disabled(feature: str) -> Handler:
    def handle(b: _Body, instr: Instr) -> None:
        raise Invalid(f"{instr.op.name} requires the {feature} feature, which is not enabled")

    return handle


def _build_handlers() -> dict[int, Handler]:
    handlers = {}
    for op in OPS:
        if op.name == "select_t":  # shares the family "select" with the untyped form
            handlers[op.code] = _select_typed
        elif op.family in _FACTORIES:
            handlers[op.code] = _FACTORIES[op.family](op)
        else:
            handlers[op.code] = _BY_FAMILY[op.family]
    return handlers


HANDLERS = _build_handlers()


@lru_cache(maxsize=None)
def handlers_for(features: frozenset[str]) -> dict[int, Handler]:
    """HANDLERS, with the rows of disabled proposals replaced by an error."""
    handlers = dict(HANDLERS)
    for op in OPS:
        if op.feature is not None and op.feature not in features:
            handlers[op.code] = _disabled(op.feature)
    return handlers


# -- the loop -----------------------------------------------------------------------------


def _local_types(ctx: Context, ft: FuncType, code: Code) -> list:
    total = len(ft.params) + sum(n for n, _ in code.locals)
    if total > MAX_LOCALS:
        raise Invalid(f"too many locals: {total} (at most {MAX_LOCALS})")
    for _, t in code.locals:
        ctx.check_valtype(t)
    return list(ft.params) + code.local_types


def validate_function(ctx: Context, func_index: int, ft: FuncType, code: Code) -> None:
    """Type-check one body (whose final `end` is its last instruction) against type `ft`."""
    try:
        locals_ = _local_types(ctx, ft, code)
    except Invalid as err:
        raise ValidationError(err.reason, code.offset, func_index) from None
    b = _Body(ctx, locals_)
    b.push_ctrl("function", [], list(ft.results))
    handlers = handlers_for(ctx.features)
    ctrls = b.ctrls
    instr = None
    try:
        for instr in code.body:
            if not ctrls:
                raise Invalid("operators remaining after end of function")
            handler = handlers.get(instr.op.code)
            if handler is None:
                raise Invalid(f"unsupported instruction {instr.op.name}")
            handler(b, instr)
        if ctrls:
            raise Invalid("function body must end with end")
    except Invalid as err:
        offset = instr.offset if instr is not None else code.offset
        raise ValidationError(err.reason, offset, func_index) from None


def block_type(module: Module, bt: BlockType) -> FuncType:
    """The function type of a block type, for later stages (assumes a validated module)."""
    if bt is None:
        return FuncType((), ())
    if isinstance(bt, str):
        return FuncType((), (bt,))
    return module.types[bt]
