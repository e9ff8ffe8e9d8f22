"""Loads, stores, memory.size/grow and the bulk memory instructions."""

from __future__ import annotations

import ast

from ..module import Instr
from .bounds import within
from .env import DATA_SEGMENTS, memory_bytes_id, memory_id
from .numeric import fold
from .stack import Entry, name

# (value type, width, signed) -> (accessor, mask applied to the loaded value)
_LOADERS = {
    ("i32", 4, False): ("load_u32", None),
    ("i64", 8, False): ("load_u64", None),
    ("f32", 4, False): ("load_f32", None),
    ("f64", 8, False): ("load_f64", None),
    ("i32", 1, True): ("load_s8", 0xFFFFFFFF),
    ("i32", 1, False): ("load_u8", None),
    ("i32", 2, True): ("load_s16", 0xFFFFFFFF),
    ("i32", 2, False): ("load_u16", None),
    ("i64", 1, True): ("load_s8", 0xFFFFFFFFFFFFFFFF),
    ("i64", 1, False): ("load_u8", None),
    ("i64", 2, True): ("load_s16", 0xFFFFFFFFFFFFFFFF),
    ("i64", 2, False): ("load_u16", None),
    ("i64", 4, True): ("load_s32", 0xFFFFFFFFFFFFFFFF),
    ("i64", 4, False): ("load_u32", None),
}
# (value type, width) -> (accessor, mask that narrows the value first)
_STORERS = {
    ("i32", 4): ("store_u32", None),
    ("i64", 8): ("store_u64", None),
    ("f32", 4): ("store_f32", None),
    ("f64", 8): ("store_f64", None),
    ("i32", 1): ("store_u8", 0xFF),
    ("i32", 2): ("store_u16", 0xFFFF),
    ("i64", 1): ("store_u8", 0xFF),
    ("i64", 2): ("store_u16", 0xFFFF),
    ("i64", 4): ("store_u32", 0xFFFFFFFF),
}
LOADERS = frozenset(a for a, _ in _LOADERS.values())
ACCESSORS = sorted({a for a, _ in _LOADERS.values()} | {a for a, _ in _STORERS.values()})
BULK_HELPERS = ("memory_init", "memory_copy", "memory_fill")


def call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=name(func), args=list(args), keywords=[])


def _address(addr: ast.expr, offset: int) -> ast.expr:
    if offset == 0:
        return addr
    if isinstance(addr, ast.Constant):
        return ast.Constant(addr.value + offset)
    return ast.BinOp(left=addr, op=ast.Add(), right=ast.Constant(offset))


def _byte(addr: ast.expr, ctx=None) -> ast.Subscript:
    """`m0[addr]`: indexing the bytearray is much faster than a struct call for one byte."""
    return ast.Subscript(value=name(memory_bytes_id(0)), slice=addr, ctx=ctx or ast.Load())


def lower_load(fl, ins: Instr) -> None:
    _, offset = ins.imm
    valtype = ins.op.sig[1][0]
    width, signed = ins.op.data["width"], ins.op.data["signed"]
    accessor, mask = _LOADERS[(valtype, width, signed)]
    (addr,) = fl.stack.shallow([fl.stack.pop()])
    address = _address(addr.expr, offset)
    expr: ast.expr
    if width == 1 and not signed:
        expr = _byte(address)
    elif accessor == "load_f32":
        expr = call(accessor, name(memory_bytes_id(0)), address)
    else:
        expr = ast.Subscript(
            value=call(accessor, name(memory_bytes_id(0)), address),
            slice=ast.Constant(0),
            ctx=ast.Load(),
        )
    if mask is not None:
        expr = ast.BinOp(left=expr, op=ast.BitAnd(), right=ast.Constant(mask))
    fl.stack.push(Entry(expr, addr.reads, pure=False, depth=addr.depth + 1))


def lower_store(fl, ins: Instr) -> None:
    _, offset = ins.imm
    valtype = ins.op.sig[0][1]
    accessor, mask = _STORERS[(valtype, ins.op.data["width"])]
    addr, value = fl.pop_for_effect(2)
    v = value.expr
    if mask is not None and not within(v, mask + 1, fl.local_ranges):
        v = ast.BinOp(left=v, op=ast.BitAnd(), right=ast.Constant(mask))
        v = fold(v)
    address = _address(addr.expr, offset)
    if accessor == "store_u8":
        # Python evaluates the value before the subscript: keep Wasm's address-first order.
        if not (addr.pure or value.pure):
            address = fl.to_temp(Entry(address, pure=False)).expr
        fl.emit(ast.Assign(targets=[_byte(address, ast.Store())], value=v, lineno=0))
    else:
        fl.emit_expr(call(accessor, name(memory_bytes_id(0)), address, v))


def lower_memory_size(fl, ins: Instr) -> None:
    expr = ast.Attribute(value=name(memory_id(ins.imm)), attr="pages", ctx=ast.Load())
    fl.stack.push(Entry(expr, pure=False))


def lower_memory_grow(fl, ins: Instr) -> None:
    (delta,) = fl.pop_for_effect(1)
    mem = ast.Attribute(value=name(memory_id(ins.imm)), attr="grow_raw", ctx=ast.Load())
    fl.push_effect(ast.Call(func=mem, args=[delta.expr], keywords=[]), [delta])


def _segment(index: int) -> ast.expr:
    return ast.Subscript(value=name(DATA_SEGMENTS), slice=ast.Constant(index), ctx=ast.Load())


def lower_memory_init(fl, ins: Instr) -> None:
    data_index, mem = ins.imm
    fl.emit_helper_call("memory_init", [name(memory_id(mem)), _segment(data_index)], 3)


def lower_data_drop(fl, ins: Instr) -> None:
    fl.stack.before_effect()
    target = ast.Subscript(value=name(DATA_SEGMENTS), slice=ast.Constant(ins.imm), ctx=ast.Store())
    fl.emit(ast.Assign(targets=[target], value=ast.Constant(b""), lineno=0))


def lower_memory_copy(fl, ins: Instr) -> None:
    dst_mem, src_mem = ins.imm
    fl.emit_helper_call("memory_copy", [name(memory_id(dst_mem)), name(memory_id(src_mem))], 3)


def lower_memory_fill(fl, ins: Instr) -> None:
    fl.emit_helper_call("memory_fill", [name(memory_id(ins.imm))], 3)
