"""THE instruction table: one row per opcode, the single source of truth.

A row gives the text-format name, the binary encoding, the shape of the immediates, the stack
signature the validator checks (None for instructions whose typing is special), the lowering
family, and the family's data. For numeric operators that data is a Python expression template
over the operands `a` and `b` (see lower/numeric.py); every other lookup is derived from OPS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Imm(Enum):
    """The shape of an instruction's immediates, and so the shape of `Instr.imm`."""

    NONE = "none"  # None
    BLOCK = "block"  # BlockType: None, a ValType, or a type index
    LABEL = "label"  # int: relative label depth
    BR_TABLE = "br_table"  # (tuple of label depths, default depth)
    FUNC = "func"  # int: function index
    CALL_INDIRECT = "call_indirect"  # (type index, table index)
    LOCAL = "local"  # int
    GLOBAL = "global"  # int
    TABLE = "table"  # int: table index
    MEMARG = "memarg"  # (align exponent, offset)
    MEMORY = "memory"  # int: memory index (a reserved zero byte in Wasm 2.0)
    I32 = "i32"  # int, unsigned (0 .. 2**32-1)
    I64 = "i64"  # int, unsigned (0 .. 2**64-1)
    F32 = "f32"  # int: the bit pattern
    F64 = "f64"  # int: the bit pattern
    REFTYPE = "reftype"  # ValType
    SELECT_T = "select_t"  # tuple of ValTypes
    MEMORY_INIT = "memory_init"  # (data index, memory index)
    DATA = "data"  # int: data index
    MEMORY_COPY = "memory_copy"  # (destination memory, source memory)
    TABLE_INIT = "table_init"  # (element index, table index)
    ELEM = "elem"  # int: element index
    TABLE_COPY = "table_copy"  # (destination table, source table)


@dataclass(frozen=True)
class Op:
    name: str
    code: int  # single-byte opcode, or 0xFC00 | sub-opcode for the 0xFC prefix
    imm: Imm
    sig: tuple[tuple[str, ...], tuple[str, ...]] | None
    family: str
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    feature: str | None = None  # the proposal that introduced it, as wasm-tools spells it

    def __repr__(self) -> str:
        return f"Op({self.name})"


def _sig(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if text is None:
        return None
    params, results = text.split("->")
    return tuple(params.split()), tuple(results.split())


def _op(name, code, imm, sig, family, feature=None, **data) -> Op:
    return Op(name, code, imm, _sig(sig), family, data, feature)


M32 = "0xFFFFFFFF"
M64 = "0xFFFFFFFFFFFFFFFF"
# add and sub reduce with `%`: CPython takes a short path for a dividend below the modulus (and
# so below 2**33 or 2**65: one digit more), faster than `&` for the common sums that do not
# wrap. Products keep `&` (`%` of a large dividend is slow); see lower/numeric.py.
P32 = "0x100000000"
P64 = "0x10000000000000000"
S32 = "0x80000000"
S64 = "0x8000000000000000"


def _int_rows(t: str, base: int, sign: str) -> list[Op]:
    """The integer tests and comparisons of one width."""
    cmp = f"{t} {t} -> i32"
    return [
        _op(f"{t}.eqz", base, Imm.NONE, f"{t} -> i32", "numeric", py="a == 0"),
        _op(f"{t}.eq", base + 1, Imm.NONE, cmp, "numeric", py="a == b"),
        _op(f"{t}.ne", base + 2, Imm.NONE, cmp, "numeric", py="a != b"),
        _op(f"{t}.lt_s", base + 3, Imm.NONE, cmp, "numeric", py=f"(a ^ {sign}) < (b ^ {sign})"),
        _op(f"{t}.lt_u", base + 4, Imm.NONE, cmp, "numeric", py="a < b"),
        _op(f"{t}.gt_s", base + 5, Imm.NONE, cmp, "numeric", py=f"(a ^ {sign}) > (b ^ {sign})"),
        _op(f"{t}.gt_u", base + 6, Imm.NONE, cmp, "numeric", py="a > b"),
        _op(f"{t}.le_s", base + 7, Imm.NONE, cmp, "numeric", py=f"(a ^ {sign}) <= (b ^ {sign})"),
        _op(f"{t}.le_u", base + 8, Imm.NONE, cmp, "numeric", py="a <= b"),
        _op(f"{t}.ge_s", base + 9, Imm.NONE, cmp, "numeric", py=f"(a ^ {sign}) >= (b ^ {sign})"),
        _op(f"{t}.ge_u", base + 10, Imm.NONE, cmp, "numeric", py="a >= b"),
    ]


def _int_arith(t: str, base: int, mask: str, sign: str, bits: int) -> list[Op]:
    """The integer unary and binary operators of one width."""
    b, un, bin_ = bits - 1, f"{t} -> {t}", f"{t} {t} -> {t}"
    modulus = P32 if bits == 32 else P64
    return [
        _op(f"{t}.clz", base, Imm.NONE, un, "numeric", py=f"{bits} - a.bit_length()"),
        _op(f"{t}.ctz", base + 1, Imm.NONE, un, "numeric", py=f"{t}_ctz(a)"),
        _op(f"{t}.popcnt", base + 2, Imm.NONE, un, "numeric", py="bin(a).count('1')"),
        _op(f"{t}.add", base + 3, Imm.NONE, bin_, "numeric", py=f"(a + b) % {modulus}"),
        _op(f"{t}.sub", base + 4, Imm.NONE, bin_, "numeric", py=f"(a - b) % {modulus}"),
        _op(f"{t}.mul", base + 5, Imm.NONE, bin_, "numeric", py=f"(a * b) & {mask}"),
        _op(f"{t}.div_s", base + 6, Imm.NONE, bin_, "numeric", py=f"{t}_div_s(a, b)"),
        _op(f"{t}.div_u", base + 7, Imm.NONE, bin_, "numeric", py=f"{t}_div_u(a, b)"),
        _op(f"{t}.rem_s", base + 8, Imm.NONE, bin_, "numeric", py=f"{t}_rem_s(a, b)"),
        _op(f"{t}.rem_u", base + 9, Imm.NONE, bin_, "numeric", py=f"{t}_rem_u(a, b)"),
        _op(f"{t}.and", base + 10, Imm.NONE, bin_, "numeric", py="a & b"),
        _op(f"{t}.or", base + 11, Imm.NONE, bin_, "numeric", py="a | b"),
        _op(f"{t}.xor", base + 12, Imm.NONE, bin_, "numeric", py="a ^ b"),
        _op(f"{t}.shl", base + 13, Imm.NONE, bin_, "numeric", py=f"(a << (b & {b})) & {mask}"),
        _op(
            f"{t}.shr_s",
            base + 14,
            Imm.NONE,
            bin_,
            "numeric",
            py=f"((a ^ {sign}) - {sign} >> (b & {b})) & {mask}",
        ),
        _op(f"{t}.shr_u", base + 15, Imm.NONE, bin_, "numeric", py=f"a >> (b & {b})"),
        _op(f"{t}.rotl", base + 16, Imm.NONE, bin_, "numeric", py=f"{t}_rotl(a, b)"),
        _op(f"{t}.rotr", base + 17, Imm.NONE, bin_, "numeric", py=f"{t}_rotr(a, b)"),
    ]


def _float_cmp(t: str, base: int) -> list[Op]:
    cmp = f"{t} {t} -> i32"
    return [
        _op(f"{t}.eq", base, Imm.NONE, cmp, "numeric", py="a == b"),
        _op(f"{t}.ne", base + 1, Imm.NONE, cmp, "numeric", py="a != b"),
        _op(f"{t}.lt", base + 2, Imm.NONE, cmp, "numeric", py="a < b"),
        _op(f"{t}.gt", base + 3, Imm.NONE, cmp, "numeric", py="a > b"),
        _op(f"{t}.le", base + 4, Imm.NONE, cmp, "numeric", py="a <= b"),
        _op(f"{t}.ge", base + 5, Imm.NONE, cmp, "numeric", py="a >= b"),
    ]


_TWO52 = "4503599627370496.0"  # doubles at least this large are integers
# Adding 2**52 leaves no fraction bits, so the hardware rounds half to even; zeros, NaNs and
# large values go to the helper.
_NEAREST = (
    f"a + {_TWO52} - {_TWO52} if 0.0 < a < {_TWO52} "
    f"else -({_TWO52} - a - {_TWO52}) if -{_TWO52} < a < 0.0 else fnearest(a)"
)


def _float_arith(t: str, base: int) -> list[Op]:
    """f32 results are rounded to single precision by `f32r`; f64 ones are already exact.

    Helpers whose common case is one Python operation are guarded inline: `a / b` unless `b` is
    zero (a NaN divisor is true), `sqrt(a)` for `a >= 0.0` (False for NaN; sqrt(-0.0) is -0.0),
    and min/max when one operand is strictly less (so neither is NaN nor are both zeros). The
    helper handles everything else. Operands used twice are names or constants (lowering
    spills others to temporaries).
    """
    un, bin_ = f"{t} -> {t}", f"{t} {t} -> {t}"

    def r(expr: str) -> str:
        return f"f32r({expr})" if t == "f32" else expr

    return [
        _op(f"{t}.abs", base, Imm.NONE, un, "numeric", py="fabs(a)"),
        _op(f"{t}.neg", base + 1, Imm.NONE, un, "numeric", py="-a"),
        _op(f"{t}.ceil", base + 2, Imm.NONE, un, "numeric", py="fceil(a)"),
        _op(f"{t}.floor", base + 3, Imm.NONE, un, "numeric", py="ffloor(a)"),
        _op(f"{t}.trunc", base + 4, Imm.NONE, un, "numeric", py="ftrunc(a)"),
        _op(f"{t}.nearest", base + 5, Imm.NONE, un, "numeric", py=_NEAREST),
        _op(
            f"{t}.sqrt",
            base + 6,
            Imm.NONE,
            un,
            "numeric",
            py=r("sqrt(a) if a >= 0.0 else fsqrt(a)"),
        ),
        _op(f"{t}.add", base + 7, Imm.NONE, bin_, "numeric", py=r("a + b")),
        _op(f"{t}.sub", base + 8, Imm.NONE, bin_, "numeric", py=r("a - b")),
        _op(f"{t}.mul", base + 9, Imm.NONE, bin_, "numeric", py=r("a * b")),
        _op(f"{t}.div", base + 10, Imm.NONE, bin_, "numeric", py=r("a / b if b else fdiv(a, b)")),
        _op(
            f"{t}.min",
            base + 11,
            Imm.NONE,
            bin_,
            "numeric",
            py="a if a < b else b if b < a else fmin(a, b)",
        ),
        _op(
            f"{t}.max",
            base + 12,
            Imm.NONE,
            bin_,
            "numeric",
            py="a if a > b else b if b > a else fmax(a, b)",
        ),
        _op(f"{t}.copysign", base + 13, Imm.NONE, bin_, "numeric", py="copysign(a, b)"),
    ]


def _sext(from_bits: int, mask: str) -> str:
    keep, sign = (1 << from_bits) - 1, 1 << (from_bits - 1)
    return f"(((a & {hex(keep)}) ^ {hex(sign)}) - {hex(sign)}) & {mask}"


# Float-to-int truncation: in range, `int(a)` (the helper's own range test, inline); outside it
# the helper traps or saturates. f32 operands are exact doubles, so one set of bounds serves.
_TRUNC_RANGES = {
    ("i32", "s"): ("-2147483649.0", "2147483648.0", f" & {M32}"),
    ("i32", "u"): ("-1.0", "4294967296.0", ""),
    ("i64", "s"): ("-9223372036854777856.0", "9223372036854775808.0", f" & {M64}"),
    ("i64", "u"): ("-1.0", "18446744073709551616.0", ""),
}


def _trunc(helper: str) -> str:
    low, high, mask = _TRUNC_RANGES[(helper[:3], helper[-1])]
    return f"int(a){mask} if {low} < a < {high} else {helper}(a)"


_CONVERSIONS = [
    ("i32.wrap_i64", 0xA7, "i64 -> i32", f"a & {M32}"),
    ("i32.trunc_f32_s", 0xA8, "f32 -> i32", _trunc("i32_trunc_s")),
    ("i32.trunc_f32_u", 0xA9, "f32 -> i32", _trunc("i32_trunc_u")),
    ("i32.trunc_f64_s", 0xAA, "f64 -> i32", _trunc("i32_trunc_s")),
    ("i32.trunc_f64_u", 0xAB, "f64 -> i32", _trunc("i32_trunc_u")),
    ("i64.extend_i32_s", 0xAC, "i32 -> i64", f"((a ^ {S32}) - {S32}) & {M64}"),
    ("i64.extend_i32_u", 0xAD, "i32 -> i64", "a"),
    ("i64.trunc_f32_s", 0xAE, "f32 -> i64", _trunc("i64_trunc_s")),
    ("i64.trunc_f32_u", 0xAF, "f32 -> i64", _trunc("i64_trunc_u")),
    ("i64.trunc_f64_s", 0xB0, "f64 -> i64", _trunc("i64_trunc_s")),
    ("i64.trunc_f64_u", 0xB1, "f64 -> i64", _trunc("i64_trunc_u")),
    ("f32.convert_i32_s", 0xB2, "i32 -> f32", f"f32r(float((a ^ {S32}) - {S32}))"),
    ("f32.convert_i32_u", 0xB3, "i32 -> f32", "f32r(float(a))"),
    ("f32.convert_i64_s", 0xB4, "i64 -> f32", "f32_convert_i64_s(a)"),
    ("f32.convert_i64_u", 0xB5, "i64 -> f32", "f32_convert_i64_u(a)"),
    ("f32.demote_f64", 0xB6, "f64 -> f32", "f32r(a)"),
    ("f64.convert_i32_s", 0xB7, "i32 -> f64", f"float((a ^ {S32}) - {S32})"),
    ("f64.convert_i32_u", 0xB8, "i32 -> f64", "float(a)"),
    ("f64.convert_i64_s", 0xB9, "i64 -> f64", f"float((a ^ {S64}) - {S64})"),
    ("f64.convert_i64_u", 0xBA, "i64 -> f64", "float(a)"),
    # `- 0.0` quiets NaNs and keeps -0.0; PyPy's JIT folds `a * 1.0` away, keeping sNaNs.
    ("f64.promote_f32", 0xBB, "f32 -> f64", "a - 0.0"),
    ("i32.reinterpret_f32", 0xBC, "f32 -> i32", "f32_to_bits(a)"),
    ("i64.reinterpret_f64", 0xBD, "f64 -> i64", "f64_to_bits(a)"),
    ("f32.reinterpret_i32", 0xBE, "i32 -> f32", "f32_from_bits(a)"),
    ("f64.reinterpret_i64", 0xBF, "i64 -> f64", "f64_from_bits(a)"),
]

_SIGN_EXTENSION = [
    ("i32.extend8_s", 0xC0, "i32 -> i32", _sext(8, M32)),
    ("i32.extend16_s", 0xC1, "i32 -> i32", _sext(16, M32)),
    ("i64.extend8_s", 0xC2, "i64 -> i64", _sext(8, M64)),
    ("i64.extend16_s", 0xC3, "i64 -> i64", _sext(16, M64)),
    ("i64.extend32_s", 0xC4, "i64 -> i64", _sext(32, M64)),
]

_TRUNC_SAT = [
    ("i32.trunc_sat_f32_s", 0, "f32 -> i32", _trunc("i32_trunc_sat_s")),
    ("i32.trunc_sat_f32_u", 1, "f32 -> i32", _trunc("i32_trunc_sat_u")),
    ("i32.trunc_sat_f64_s", 2, "f64 -> i32", _trunc("i32_trunc_sat_s")),
    ("i32.trunc_sat_f64_u", 3, "f64 -> i32", _trunc("i32_trunc_sat_u")),
    ("i64.trunc_sat_f32_s", 4, "f32 -> i64", _trunc("i64_trunc_sat_s")),
    ("i64.trunc_sat_f32_u", 5, "f32 -> i64", _trunc("i64_trunc_sat_u")),
    ("i64.trunc_sat_f64_s", 6, "f64 -> i64", _trunc("i64_trunc_sat_s")),
    ("i64.trunc_sat_f64_u", 7, "f64 -> i64", _trunc("i64_trunc_sat_u")),
]

# (name, code, value type, access width in bytes, signed)
_LOADS = [
    ("i32.load", 0x28, "i32", 4, False),
    ("i64.load", 0x29, "i64", 8, False),
    ("f32.load", 0x2A, "f32", 4, False),
    ("f64.load", 0x2B, "f64", 8, False),
    ("i32.load8_s", 0x2C, "i32", 1, True),
    ("i32.load8_u", 0x2D, "i32", 1, False),
    ("i32.load16_s", 0x2E, "i32", 2, True),
    ("i32.load16_u", 0x2F, "i32", 2, False),
    ("i64.load8_s", 0x30, "i64", 1, True),
    ("i64.load8_u", 0x31, "i64", 1, False),
    ("i64.load16_s", 0x32, "i64", 2, True),
    ("i64.load16_u", 0x33, "i64", 2, False),
    ("i64.load32_s", 0x34, "i64", 4, True),
    ("i64.load32_u", 0x35, "i64", 4, False),
]
_STORES = [
    ("i32.store", 0x36, "i32", 4),
    ("i64.store", 0x37, "i64", 8),
    ("f32.store", 0x38, "f32", 4),
    ("f64.store", 0x39, "f64", 8),
    ("i32.store8", 0x3A, "i32", 1),
    ("i32.store16", 0x3B, "i32", 2),
    ("i64.store8", 0x3C, "i64", 1),
    ("i64.store16", 0x3D, "i64", 2),
    ("i64.store32", 0x3E, "i64", 4),
]

FC = 0xFC00  # the 0xFC prefix: code = FC | sub-opcode

OPS: tuple[Op, ...] = (
    # control
    _op("unreachable", 0x00, Imm.NONE, None, "unreachable"),
    _op("nop", 0x01, Imm.NONE, None, "nop"),
    _op("block", 0x02, Imm.BLOCK, None, "block"),
    _op("loop", 0x03, Imm.BLOCK, None, "loop"),
    _op("if", 0x04, Imm.BLOCK, None, "if"),
    _op("else", 0x05, Imm.NONE, None, "else"),
    _op("end", 0x0B, Imm.NONE, None, "end"),
    _op("br", 0x0C, Imm.LABEL, None, "br"),
    _op("br_if", 0x0D, Imm.LABEL, None, "br_if"),
    _op("br_table", 0x0E, Imm.BR_TABLE, None, "br_table"),
    _op("return", 0x0F, Imm.NONE, None, "return"),
    _op("call", 0x10, Imm.FUNC, None, "call"),
    _op("call_indirect", 0x11, Imm.CALL_INDIRECT, None, "call_indirect"),
    # parametric
    _op("drop", 0x1A, Imm.NONE, None, "drop"),
    _op("select", 0x1B, Imm.NONE, None, "select"),
    _op("select_t", 0x1C, Imm.SELECT_T, None, "select", "reference-types"),
    # variables
    _op("local.get", 0x20, Imm.LOCAL, None, "local.get"),
    _op("local.set", 0x21, Imm.LOCAL, None, "local.set"),
    _op("local.tee", 0x22, Imm.LOCAL, None, "local.tee"),
    _op("global.get", 0x23, Imm.GLOBAL, None, "global.get"),
    _op("global.set", 0x24, Imm.GLOBAL, None, "global.set"),
    _op("table.get", 0x25, Imm.TABLE, None, "table.get", "reference-types"),
    _op("table.set", 0x26, Imm.TABLE, None, "table.set", "reference-types"),
    # memory
    *(_op(n, c, Imm.MEMARG, f"i32 -> {t}", "load", width=w, signed=s) for n, c, t, w, s in _LOADS),
    *(_op(n, c, Imm.MEMARG, f"i32 {t} ->", "store", width=w) for n, c, t, w in _STORES),
    _op("memory.size", 0x3F, Imm.MEMORY, "-> i32", "memory.size"),
    _op("memory.grow", 0x40, Imm.MEMORY, "i32 -> i32", "memory.grow"),
    # constants
    _op("i32.const", 0x41, Imm.I32, "-> i32", "const"),
    _op("i64.const", 0x42, Imm.I64, "-> i64", "const"),
    _op("f32.const", 0x43, Imm.F32, "-> f32", "const"),
    _op("f64.const", 0x44, Imm.F64, "-> f64", "const"),
    # numeric
    *_int_rows("i32", 0x45, S32),
    *_int_rows("i64", 0x50, S64),
    *_float_cmp("f32", 0x5B),
    *_float_cmp("f64", 0x61),
    *_int_arith("i32", 0x67, M32, S32, 32),
    *_int_arith("i64", 0x79, M64, S64, 64),
    *_float_arith("f32", 0x8B),
    *_float_arith("f64", 0x99),
    *(_op(n, c, Imm.NONE, s, "numeric", py=p) for n, c, s, p in _CONVERSIONS),
    *(_op(n, c, Imm.NONE, s, "numeric", "sign-extension", py=p) for n, c, s, p in _SIGN_EXTENSION),
    # reference types
    _op("ref.null", 0xD0, Imm.REFTYPE, None, "ref.null", "reference-types"),
    _op("ref.is_null", 0xD1, Imm.NONE, None, "ref.is_null", "reference-types"),
    _op("ref.func", 0xD2, Imm.FUNC, None, "ref.func", "reference-types"),
    # the 0xFC prefix
    *(
        _op(n, FC | c, Imm.NONE, s, "numeric", "saturating-float-to-int", py=p)
        for n, c, s, p in _TRUNC_SAT
    ),
    _op("memory.init", FC | 8, Imm.MEMORY_INIT, "i32 i32 i32 ->", "memory.init", "bulk-memory"),
    _op("data.drop", FC | 9, Imm.DATA, "->", "data.drop", "bulk-memory"),
    _op("memory.copy", FC | 10, Imm.MEMORY_COPY, "i32 i32 i32 ->", "memory.copy", "bulk-memory"),
    _op("memory.fill", FC | 11, Imm.MEMORY, "i32 i32 i32 ->", "memory.fill", "bulk-memory"),
    _op("table.init", FC | 12, Imm.TABLE_INIT, "i32 i32 i32 ->", "table.init", "bulk-memory"),
    _op("elem.drop", FC | 13, Imm.ELEM, "->", "elem.drop", "bulk-memory"),
    _op("table.copy", FC | 14, Imm.TABLE_COPY, "i32 i32 i32 ->", "table.copy", "bulk-memory"),
    _op("table.grow", FC | 15, Imm.TABLE, None, "table.grow", "reference-types"),
    _op("table.size", FC | 16, Imm.TABLE, "-> i32", "table.size", "reference-types"),
    _op("table.fill", FC | 17, Imm.TABLE, None, "table.fill", "reference-types"),
)

BY_CODE: dict[int, Op] = {op.code: op for op in OPS}
BY_NAME: dict[str, Op] = {op.name: op for op in OPS}

# Opcodes allowed in constant expressions (Wasm 2.0).
CONST_OPS = frozenset(
    {"i32.const", "i64.const", "f32.const", "f64.const", "ref.null", "ref.func", "global.get"}
)
