"""Constants, locals, globals, drop/select, references and calls."""

from __future__ import annotations

import ast
import struct

from ..module import Instr
from .env import func_id, funcref_id
from .memory import call
from .stack import Entry, assign, name, store
from .tables import indirect_signature, lower_indirect_callee

_NAN_BITS = {"f32": (0x7F800000, 0x007FFFFF), "f64": (0x7FF0000000000000, 0x000FFFFFFFFFFFFF)}


def float_constant(valtype: str, bits: int) -> ast.expr:
    """An exact float literal; NaNs (whose payload a literal cannot carry) come from their bits."""
    exponent, mantissa = _NAN_BITS[valtype]
    if bits & exponent == exponent and bits & mantissa:
        return call(f"{valtype}_from_bits", ast.Constant(bits))
    fmt = "<f" if valtype == "f32" else "<d"
    value = struct.unpack(fmt, struct.pack("<I" if valtype == "f32" else "<Q", bits))[0]
    return ast.Constant(value)


def constant_expr(ins: Instr) -> ast.expr:
    name_ = ins.op.name
    if name_ in ("f32.const", "f64.const"):
        return float_constant(name_[:3], ins.imm)
    return ast.Constant(ins.imm)


def lower_const(fl, ins: Instr) -> None:
    expr = constant_expr(ins)
    fl.stack.push(Entry(expr, depth=0 if isinstance(expr, ast.Constant) else 1))


def lower_local_get(fl, ins: Instr) -> None:
    fl.stack.push(Entry(name(f"l{ins.imm}"), reads=frozenset((ins.imm,))))


def _set_local(fl, index: int) -> None:
    value = fl.stack.pop()
    if not value.pure:
        fl.stack.before_effect()  # the assignment evaluates it now: what is below goes first
    fl.stack.before_local_write(index)
    fl.emit(assign([f"l{index}"], [value.expr]))


def lower_local_set(fl, ins: Instr) -> None:
    _set_local(fl, ins.imm)


def lower_local_tee(fl, ins: Instr) -> None:
    _set_local(fl, ins.imm)
    lower_local_get(fl, ins)


def lower_global_get(fl, ins: Instr) -> None:
    mutable = fl.env.global_types[ins.imm].mutable
    fl.stack.push(Entry(fl.env.global_load(ins.imm), pure=not mutable, depth=1))


def lower_global_set(fl, ins: Instr) -> None:
    (value,) = fl.pop_for_effect(1)
    if not fl.env.is_shared_global(ins.imm):
        fl.written_globals.add(ins.imm)
    fl.emit(ast.Assign(targets=[fl.env.global_store_target(ins.imm)], value=value.expr, lineno=0))


def lower_drop(fl, ins: Instr) -> None:
    entry = fl.stack.pop()
    if not entry.pure:
        fl.stack.before_effect()
        fl.emit_expr(entry.expr)


def lower_select(fl, ins: Instr) -> None:
    first, second, condition = fl.stack.popn(3)
    if not (first.pure and second.pure):
        # Both operands are evaluated in Wasm; a conditional expression evaluates one.
        fl.stack.before_effect()
        first, second = fl.to_temp(first), fl.to_temp(second)
    first, second, condition = fl.stack.shallow([first, second, condition])
    expr = ast.IfExp(test=condition.expr, body=first.expr, orelse=second.expr)
    fl.stack.push(
        Entry(
            expr,
            reads=first.reads | second.reads | condition.reads,
            pure=condition.pure,
            depth=1 + max(first.depth, second.depth, condition.depth),
        )
    )


def lower_ref_null(fl, ins: Instr) -> None:
    fl.stack.push(Entry(ast.Constant(None)))


def lower_ref_is_null(fl, ins: Instr) -> None:
    (ref,) = fl.stack.shallow([fl.stack.pop()])
    expr = ast.Compare(left=ref.expr, ops=[ast.Is()], comparators=[ast.Constant(None)])
    fl.stack.push(Entry(expr, ref.reads, ref.pure, ref.depth + 1))


def lower_ref_func(fl, ins: Instr) -> None:
    fl.stack.push(Entry(name(funcref_id(ins.imm)), depth=1))


def _push_call(fl, callee: ast.expr, args: list[Entry], n_results: int) -> None:
    expr = ast.Call(func=callee, args=[a.expr for a in args], keywords=[])
    if n_results == 0:
        fl.emit_expr(expr)
    elif n_results == 1:
        fl.push_effect(expr, args)
    else:
        temps = [fl.new_temp() for _ in range(n_results)]
        fl.emit(
            ast.Assign(
                targets=[ast.Tuple(elts=[store(t) for t in temps], ctx=ast.Store())],
                value=expr,
                lineno=0,
            )
        )
        for t in temps:
            fl.stack.push(Entry(name(t)))


def lower_call(fl, ins: Instr) -> None:
    ftype = fl.env.func_types[ins.imm]
    args = fl.pop_for_effect(len(ftype.params))
    _push_call(fl, name(func_id(ins.imm)), args, len(ftype.results))


def lower_call_indirect(fl, ins: Instr) -> None:
    type_index, table = ins.imm
    ftype = fl.env.module.types[type_index]
    *args, index = fl.pop_for_effect(len(ftype.params) + 1)
    # The table lookup (which may trap) runs before the arguments are read: they must be
    # evaluated already.
    args = [a if a.pure else fl.to_temp(a) for a in args]
    callee = lower_indirect_callee(fl, table, indirect_signature(ftype), index)
    _push_call(fl, callee, args, len(ftype.results))
