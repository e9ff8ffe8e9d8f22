"""Instruction sequences: function bodies and constant expressions, as flat lists of Instr.

Each opcode is looked up in the instruction table and its immediates read by the one reader
for its `Imm` kind. Block structure is only checked for balance (an `else` belongs to an `if`,
the sequence ends with the `end` that closes it); typing is the validator's job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ValidationError
from ..module import Expr, Instr
from ..opcodes import BY_CODE, BY_NAME, FC, Imm, Op
from ..types import BlockType
from .reader import Reader

SIMD_PREFIX = 0xFD
MAX_ALIGN = 32  # Wasm 2.0: an alignment exponent of 32 or more is malformed

REF_FUNC = BY_NAME["ref.func"]
# Compared by code, not by Op: an Op's dataclass hash is far slower than an int's.
_NEEDS_DATA_COUNT = frozenset({BY_NAME["memory.init"].code, BY_NAME["data.drop"].code})
_OPENERS = frozenset({BY_NAME["block"].code, BY_NAME["loop"].code, BY_NAME["if"].code})
_IF, _ELSE, _END = BY_NAME["if"].code, BY_NAME["else"].code, BY_NAME["end"].code


def read_blocktype(r: Reader) -> BlockType:
    """0x40 for no type, one value type byte, or a non-negative s33 type index."""
    byte = r.peek()
    if byte == 0x40:
        r.pos += 1
        return None
    if byte is not None and byte & 0xC0 == 0x40:
        return r.valtype()  # a one-byte negative s33 is a value type
    start = r.pos
    index = r.s33()
    if index < 0:
        raise r.error("malformed block type", start)
    return index


def read_br_table(r: Reader) -> tuple[tuple[int, ...], int]:
    labels = tuple(r.vec(Reader.u32))
    return labels, r.u32()


def read_memarg(r: Reader) -> tuple[int, int]:
    start = r.pos
    align = r.u32()
    if align >= MAX_ALIGN:
        raise r.error("malformed memop flags", start)
    return align, r.u32()


def read_memory_init(r: Reader) -> tuple[int, int]:
    data = r.u32()
    return data, r.expect_zero()


def read_pair(r: Reader) -> tuple[int, int]:
    first = r.u32()
    return first, r.u32()


IMM_READERS: dict[Imm, Callable[[Reader], Any]] = {
    Imm.NONE: lambda r: None,
    Imm.BLOCK: read_blocktype,
    Imm.LABEL: Reader.u32,
    Imm.BR_TABLE: read_br_table,
    Imm.FUNC: Reader.u32,
    Imm.CALL_INDIRECT: read_pair,  # (type index, table index)
    Imm.LOCAL: Reader.u32,
    Imm.GLOBAL: Reader.u32,
    Imm.TABLE: Reader.u32,
    Imm.MEMARG: read_memarg,
    Imm.MEMORY: Reader.expect_zero,
    Imm.I32: lambda r: r.s32() & 0xFFFFFFFF,
    Imm.I64: lambda r: r.s64() & 0xFFFFFFFFFFFFFFFF,
    Imm.F32: Reader.f32_bits,
    Imm.F64: Reader.f64_bits,
    Imm.REFTYPE: Reader.reftype,
    Imm.SELECT_T: lambda r: tuple(r.vec(Reader.valtype)),
    Imm.MEMORY_INIT: read_memory_init,
    Imm.DATA: Reader.u32,
    Imm.MEMORY_COPY: lambda r: (r.expect_zero(), r.expect_zero()),
    Imm.TABLE_INIT: read_pair,  # (element index, table index)
    Imm.ELEM: Reader.u32,
    Imm.TABLE_COPY: read_pair,  # (destination table, source table)
}


# Every opcode with the reader of its immediates, looked up once per instruction.
_DECODE: dict[int, tuple[Op, Callable[[Reader], Any]]] = {
    op.code: (op, IMM_READERS[op.imm]) for op in BY_CODE.values()
}


def read_op(r: Reader) -> tuple[Op, Callable[[Reader], Any]]:
    """One opcode, a byte or the 0xFC prefix and a u32 sub-opcode, and its immediate reader."""
    start = r.pos
    code = r.u8()
    if code == 0xFC:
        sub = r.u32()
        code = FC | sub if sub <= 0xFF else -1
    elif code == SIMD_PREFIX:
        # SIMD modules are well-formed Wasm 2.0; this project just does not support them.
        raise ValidationError("SIMD instructions are not supported", start)
    entry = _DECODE.get(code)
    if entry is None:
        raise r.error(f"illegal opcode {r.data[start : r.pos].hex()}", start)
    return entry


def read_instrs(r: Reader, has_data_count: bool = True) -> list[Instr]:
    """Instructions up to and including the `end` that closes the sequence."""
    instrs: list[Instr] = []
    append = instrs.append
    open_blocks: list[int] = []  # the opcode of each enclosing block; `else` replaces `if`
    data, end = r.data, r.end
    while True:
        start = r.pos
        # A one-byte opcode, nearly all of them, without a call; read_op for the rest.
        entry = _DECODE.get(data[start]) if start < end else None
        if entry is None:
            op, read_imm = read_op(r)
        else:
            r.pos = start + 1
            op, read_imm = entry
        code = op.code
        if code in _NEEDS_DATA_COUNT and not has_data_count:
            raise r.error("data count section required", start)
        append(Instr(op, read_imm(r), start))
        if code in _OPENERS:
            open_blocks.append(code)
        elif code == _ELSE:
            # Structured binary grammar: `else` may only follow the then-arm of an `if`.
            if not open_blocks or open_blocks[-1] != _IF:
                raise r.error("END opcode expected", start)
            open_blocks[-1] = _ELSE
        elif code == _END:
            if not open_blocks:
                return instrs
            open_blocks.pop()


def read_const_expr(r: Reader) -> Expr:
    """A constant expression, without its final `end`; the validator checks what is in it."""
    return read_instrs(r)[:-1]


def ref_func_expr(r: Reader) -> Expr:
    """An element given as a bare function index, as the expression `ref.func index`."""
    start = r.pos
    return [Instr(REF_FUNC, r.u32(), start)]
