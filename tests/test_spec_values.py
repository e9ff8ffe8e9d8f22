"""The spec runner's pure parts: JSON value conversion, NaN classes and result checks."""

from __future__ import annotations

import struct
from collections import Counter

import pytest
import wasm2py_runtime as rt
from hypothesis import given
from hypothesis import strategies as st

from tests.spec.runner import describe_action, format_counts
from tests.spec.values import (
    HostRef,
    UnsupportedValue,
    check_results,
    check_value,
    describe,
    is_arithmetic_nan,
    is_canonical_nan,
    parse_arg,
    to_signed,
)


def v(valtype: str, value: str | None) -> dict:
    return {"type": valtype, "value": value} if value is not None else {"type": valtype}


# ---- integers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "width", "signed"),
    [
        (0, 32, 0),
        (1, 32, 1),
        (0x7FFFFFFF, 32, 0x7FFFFFFF),
        (0x80000000, 32, -0x80000000),
        (0xFFFFFFFF, 32, -1),
        (-1, 32, -1),
        (1 << 32, 32, 0),
        (0xFFFFFFFFFFFFFFFF, 64, -1),
        (0x8000000000000000, 64, -(1 << 63)),
        (-(1 << 63), 64, -(1 << 63)),
    ],
)
def test_to_signed(value: int, width: int, signed: int) -> None:
    assert to_signed(value, width) == signed


@given(st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1))
def test_to_signed_is_the_same_for_signed_and_unsigned_spellings(value: int) -> None:
    assert to_signed(value, 64) == to_signed(value & ((1 << 64) - 1), 64)
    assert -(1 << 63) <= to_signed(value, 64) < (1 << 63)


def test_int_args_pass_through() -> None:
    assert parse_arg(v("i32", "-1")) == -1
    assert parse_arg(v("i64", "18446744073709551615")) == (1 << 64) - 1


@pytest.mark.parametrize("spelling", ["-1", "4294967295"])
def test_int_result_accepts_either_spelling_of_the_expectation(spelling: str) -> None:
    assert check_value(v("i32", spelling), -1) is None


def test_int_result_must_be_signed() -> None:
    assert check_value(v("i32", "-1"), 0xFFFFFFFF) is not None
    assert check_value(v("i64", "-1"), (1 << 64) - 1) is not None


def test_int_result_must_be_an_int() -> None:
    assert check_value(v("i32", "1"), True) is not None
    assert check_value(v("i32", "1"), 1.0) is not None
    assert check_value(v("i32", "1"), 2) is not None


# ---- NaN classes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "valtype", "canonical", "arithmetic"),
    [
        (0x7FC00000, "f32", True, True),
        (0xFFC00000, "f32", True, True),  # either sign
        (0x7FC00001, "f32", False, True),  # payload beyond the quiet bit
        (0x7FE00000, "f32", False, True),
        (0x7FA00000, "f32", False, False),  # signalling
        (0x7F800001, "f32", False, False),
        (0x7F800000, "f32", False, False),  # infinity
        (0x3F800000, "f32", False, False),
        (0x7FF8000000000000, "f64", True, True),
        (0xFFF8000000000000, "f64", True, True),
        (0x7FF8000000000001, "f64", False, True),
        (0x7FF4000000000000, "f64", False, False),
        (0x7FF0000000000000, "f64", False, False),
        (0x7FC00000, "f64", False, False),  # an f32 pattern is not an f64 NaN
    ],
)
def test_nan_classes(bits: int, valtype: str, canonical: bool, arithmetic: bool) -> None:
    assert is_canonical_nan(bits, valtype) is canonical
    assert is_arithmetic_nan(bits, valtype) is arithmetic


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_canonical_nans_are_arithmetic(bits: int) -> None:
    if is_canonical_nan(bits, "f32"):
        assert is_arithmetic_nan(bits, "f32")
        assert bits & 0x7FFFFFFF == 0x7FC00000


# ---- floats -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [0, 0x80000000, 0x3F800000, 0x7F800000, 0x7FC00000, 0x7FA00001])
def test_f32_arg_round_trips_its_bits(bits: int) -> None:
    value = parse_arg(v("f32", str(bits)))
    assert type(value) is float
    assert rt.f32_to_bits(value) == bits


@pytest.mark.parametrize("bits", [0, 1 << 63, 0x3FF0000000000000, 0x7FF4000000000001])
def test_f64_arg_round_trips_its_bits(bits: int) -> None:
    assert rt.f64_to_bits(parse_arg(v("f64", str(bits)))) == bits


def test_float_results_compare_bits_exactly() -> None:
    assert check_value(v("f32", str(0x3F800000)), 1.0) is None
    assert check_value(v("f64", str(0x8000000000000000)), -0.0) is None
    assert check_value(v("f64", "0"), -0.0) is not None  # the sign of zero matters
    assert check_value(v("f32", "0"), 0) is not None  # an int is not a float result


def test_f32_result_must_be_an_f32_value() -> None:
    assert check_value(v("f32", str(0x3DCCCCCD)), 0.1) is not None  # 0.1 the double
    f32_tenth = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert check_value(v("f32", str(0x3DCCCCCD)), f32_tenth) is None
    assert check_value(v("f32", str(0x7F800000)), 1e300) is not None


@pytest.mark.parametrize(
    ("expected", "valtype", "bits", "ok"),
    [
        ("nan:canonical", "f32", 0xFFC00000, True),
        ("nan:canonical", "f32", 0x7FC00001, False),
        ("nan:arithmetic", "f32", 0x7FC00001, True),
        ("nan:arithmetic", "f32", 0x7F800001, False),
        ("nan:canonical", "f64", 0x7FF8000000000000, True),
        ("nan:arithmetic", "f64", 0xFFF8000000000123, True),
        ("nan:arithmetic", "f64", 0x7FF0000000000001, False),
        ("nan:canonical", "f64", 0x3FF0000000000000, False),
    ],
)
def test_nan_expectations(expected: str, valtype: str, bits: int, ok: bool) -> None:
    value = rt.f32_from_bits(bits) if valtype == "f32" else rt.f64_from_bits(bits)
    assert (check_value(v(valtype, expected), value) is None) is ok


def test_describe_float_shows_bits_and_value() -> None:
    assert describe(v("f32", str(0x3F800000))) == "f32 0x3f800000 (1.0)"
    assert describe(v("f64", "nan:canonical")) == "f64 nan:canonical"


# ---- references -------------------------------------------------------------------------------


def test_reference_args() -> None:
    assert parse_arg(v("externref", "null")) is None
    assert parse_arg(v("funcref", "null")) is None
    assert parse_arg(v("externref", "7")) == HostRef(7)
    assert parse_arg(v("externref", "7")) is not HostRef(7)  # a fresh, equal host object


def test_reference_results() -> None:
    assert check_value(v("externref", "null"), None) is None
    assert check_value(v("externref", "null"), HostRef(0)) is not None
    assert check_value(v("externref", "3"), HostRef(3)) is None
    assert check_value(v("externref", "3"), HostRef(4)) is not None
    assert check_value(v("externref", "3"), None) is not None
    assert check_value(v("funcref", "null"), None) is None
    assert check_value(v("funcref", None), lambda: None) is None  # ref.func: any non-null
    assert check_value(v("funcref", None), None) is not None


def test_unsupported_values_raise() -> None:
    with pytest.raises(UnsupportedValue):
        parse_arg({"type": "v128", "lane_type": "i32", "value": ["0", "0", "0", "0"]})
    with pytest.raises(UnsupportedValue):
        parse_arg(v("funcref", "0"))


# ---- result shapes ----------------------------------------------------------------------------


def test_result_shapes() -> None:
    assert check_results([], None) is None
    assert check_results([], 0) is not None
    assert check_results([v("i32", "1")], 1) is None
    assert check_results([v("i32", "1")], (1,)) is not None
    assert check_results([v("i32", "1"), v("i64", "2")], (1, 2)) is None
    assert check_results([v("i32", "1"), v("i64", "2")], [1, 2]) is not None
    assert check_results([v("i32", "1"), v("i64", "2")], (1,)) is not None
    assert "result 1" in check_results([v("i32", "1"), v("i64", "2")], (1, 3))


def test_messages() -> None:
    assert check_results([v("i32", "-1")], 5) == "expected i32 -1 (0xffffffff), got 5 (0x5)"
    assert describe_action({"type": "invoke", "field": "add", "args": [v("i32", "1")]}) == "add(1)"
    assert describe_action({"type": "get", "field": "g", "module": "M"}) == "get M.g"
    counts = {"module": Counter(passed=1), "assert_return": Counter(passed=2, failed=1)}
    assert format_counts(counts) == "assert_return 2/1/0  module 1/0/0"
