"""Bad bytes never crash the translator: `translate` returns source or raises WasmError.

Hypothesis mutates real modules (byte flips, insertions, deletions, truncations, LEB128 edge
values in length and count fields, sections spliced in from other modules, dropped, repeated
or swapped), and makes random bytes and random sections behind a valid header. Every error
must be a WasmError with a one-line message and an offset inside the input; every success
must compile; mutated modules are accepted exactly when a reference validator accepts them. Lengths that claim gigabytes must not allocate them. The CLI turns bad input
into one line on stderr, exit code 1 and no output file. The long run of the same mutations
is `python -m tests.fuzz decode --count N`.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import wasmtime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wasm2py
from tests import fuzz
from tests.fuzz import EDGE_LEBS, HEADER, MUTATIONS, check_translate, name_bytes, section, uleb


@functools.cache
def seeds() -> tuple[bytes, ...]:
    """The built-in seeds, plus spec-suite modules if their conversion is cached in out/."""
    return tuple(fuzz.seed_modules() + fuzz.spec_modules(limit=300))


# Derandomized: CI sees the same inputs every run; `python -m tests.fuzz decode` explores.
FUZZ = settings(
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

mutation = st.tuples(
    st.sampled_from(sorted(MUTATIONS)), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)
)


def test_the_seeds_are_valid_and_use_every_section():
    ids = set()
    for data in seeds()[:12]:
        assert check_translate(data) == "ok"
        ids |= {section_id for section_id, _ in fuzz.split_sections(data)}
    assert ids == set(range(13))


@settings(FUZZ, max_examples=1500)
@given(st.integers(0, 2**16), st.lists(mutation, min_size=1, max_size=6))
def test_mutated_modules(seed_index, mutations):
    data = fuzz.mutate(seeds()[seed_index % len(seeds())], mutations, list(seeds()[:12]))
    fuzz.check_validation(data, check_translate(data))


@settings(FUZZ, max_examples=200)
@given(
    st.integers(0, 2**16),
    st.lists(mutation, max_size=3),
    st.frozensets(st.sampled_from(sorted(wasm2py.SUPPORTED_FEATURES))),
)
def test_mutated_modules_with_some_proposals_turned_off(seed_index, mutations, features):
    data = fuzz.mutate(seeds()[seed_index % len(seeds())], mutations, list(seeds()[:12]))
    fuzz.check_validation(data, check_translate(data, features=features), features)


@settings(FUZZ, max_examples=500)
@given(st.binary(max_size=400))
def test_random_bytes_after_a_valid_header(tail):
    check_translate(HEADER + tail)


@settings(FUZZ, max_examples=300)
@given(st.binary(max_size=40))
def test_random_bytes(data):
    check_translate(data)


section_id = st.one_of(st.integers(0, 12), st.integers(0, 255))
size_field = st.one_of(st.none(), st.sampled_from(EDGE_LEBS))  # None: the right size


@settings(FUZZ, max_examples=500)
@given(st.lists(st.tuples(section_id, st.binary(max_size=60), size_field), max_size=8))
def test_random_sections(sections):
    data = HEADER + b"".join(
        bytes([i]) + (uleb(len(payload)) if size is None else size) + payload
        for i, payload, size in sections
    )
    check_translate(data)


@settings(FUZZ, max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 2**16)), max_size=10))
def test_real_sections_in_any_order_and_number(picks):
    """Sections taken whole from the seeds, assembled out of order, repeated or missing."""
    chosen = []
    for wanted, k in picks:
        found = [s for data in seeds()[:12] for s in fuzz.split_sections(data) if s[0] == wanted]
        if found:
            chosen.append(found[k % len(found)])
    data = fuzz.assemble(chosen)
    fuzz.check_validation(data, check_translate(data))


def test_every_truncation_of_the_seeds():
    for data in seeds()[:12]:
        for end in range(len(data)):
            check_translate(data[:end])


def test_every_length_and_count_field_at_every_edge_value_without_allocating_it():
    """Each section's size, first count (fixed-up or not) and each code body's size."""
    tracemalloc.start()
    try:
        for data in seeds()[:12]:
            n = len(fuzz.split_sections(data))
            for k in range(n):
                for v in range(len(EDGE_LEBS)):
                    for kind, b in (("section-size", v), ("count", 2 * v), ("count", 2 * v + 1),
                                    ("body-size", v)):  # fmt: skip
                        tracemalloc.reset_peak()
                        check_translate(fuzz.mutate(data, [(kind, k, b)]))
                        assert tracemalloc.get_traced_memory()[1] < 64 * 2**20, (kind, k, b)
    finally:
        tracemalloc.stop()


# The eight element segment encodings, with a funcref table to put them in: bit 0 passive or
# declarative (bulk memory), bit 1 explicit table or declarative, bit 2 expressions instead of
# function indices (reference types, as wasm-tools and wasmtime require).
ELEMENT_SEGMENTS = {
    0: b"\x00\x41\x00\x0b\x00",
    1: b"\x01\x00\x00",
    2: b"\x02\x00\x41\x00\x0b\x00\x00",
    3: b"\x03\x00\x00",
    4: b"\x04\x41\x00\x0b\x00",
    5: b"\x05\x70\x00",
    6: b"\x06\x00\x41\x00\x0b\x70\x00",
    7: b"\x07\x70\x00",
}


@pytest.mark.parametrize("flags", ELEMENT_SEGMENTS)
@pytest.mark.parametrize(
    "features", [set(), {"bulk-memory"}, {"reference-types"}, {"bulk-memory", "reference-types"}]
)
def test_each_element_segment_encoding_needs_its_proposals(flags, features):
    data = HEADER + section(4, b"\x01\x70\x00\x01") + section(9, b"\x01" + ELEMENT_SEGMENTS[flags])
    needs = {"bulk-memory"} if flags & 1 else set()
    needs |= {"reference-types"} if flags & 4 else set()
    outcome = check_translate(data, features=frozenset(features))
    assert outcome == ("ok" if needs <= features else "error")


@pytest.mark.parametrize("signature", ["", "(result i32) i32.const 1", "(param i32) drop"])
def test_a_type_index_as_block_type_needs_multi_value_even_for_mvp_signatures(signature):
    """Found by decode fuzzing with multi-value off: `block (type 0)` of type [] -> [] passed."""
    params = "(param i32)" if "param" in signature else ""
    results = "(result i32)" if "result" in signature else ""
    body = signature.split(") ", 1)[1] if ")" in signature else ""
    wat = f"""(module (type $t (func {params} {results}))
      (func {results} {"i32.const 0" if params else ""} block (type $t) {body} end))"""
    data = wasmtime.wat2wasm(wat)
    everything_else = wasm2py.SUPPORTED_FEATURES - {"multi-value"}
    assert check_translate(data) == "ok"
    assert check_translate(data, features=everything_else) == "error"
    fuzz.check_validation(data, "error", everything_else)


# ---- claims of enormous sizes -----------------------------------------------------------------

BIG = uleb(2**32 - 1)
TYPE_SECTION = section(1, b"\x01\x60\x00\x00")
FUNC_SECTION = section(3, b"\x01\x00")


def code_section(body: bytes, locals_: bytes = b"\x00") -> bytes:
    entry = locals_ + body
    return section(10, b"\x01" + uleb(len(entry)) + entry)


HUGE_CLAIMS = {
    "type count": HEADER + section(1, BIG + b"\x60"),
    "param count": HEADER + section(1, b"\x01\x60" + BIG + b"\x7f"),
    "import count": HEADER + section(2, BIG),
    "import name length": HEADER + section(2, b"\x01" + BIG + b"ab"),
    "function count": HEADER + TYPE_SECTION + section(3, BIG + b"\x00"),
    "table count": HEADER + section(4, BIG + b"\x70\x00\x01"),
    "table size": HEADER + section(4, b"\x01\x70\x00" + BIG),
    "memory pages": HEADER + section(5, b"\x01\x00" + BIG),
    "memory count": HEADER + section(5, BIG + b"\x00\x01"),
    "global count": HEADER + section(6, BIG + b"\x7f\x00\x41\x00\x0b"),
    "export count": HEADER + section(7, BIG + b"\x01a\x00\x00"),
    "element count": HEADER + section(9, BIG),
    "element vector": HEADER + section(9, b"\x01\x00\x41\x00\x0b" + BIG + b"\x00"),
    "data count section": HEADER + section(12, BIG),
    "data count": HEADER + section(11, BIG),
    "data length": HEADER + section(11, b"\x01\x01" + BIG + b"xy"),
    "code count": HEADER + TYPE_SECTION + FUNC_SECTION + section(10, BIG),
    "body size": HEADER + TYPE_SECTION + FUNC_SECTION + section(10, b"\x01" + BIG + b"\x00\x0b"),
    "local groups": HEADER + TYPE_SECTION + FUNC_SECTION + code_section(b"\x0b", BIG + b"\x01"),
    "locals in one group": HEADER
    + TYPE_SECTION
    + FUNC_SECTION
    + code_section(b"\x0b", b"\x01" + BIG + b"\x7f"),
    "locals in many groups": HEADER
    + TYPE_SECTION
    + FUNC_SECTION
    + code_section(b"\x0b", b"\x05" + (uleb(2**30) + b"\x7e") * 5),
    "br_table targets": HEADER
    + TYPE_SECTION
    + FUNC_SECTION
    + code_section(b"\x41\x00\x0e" + BIG + b"\x00\x0b"),
    "select types": HEADER
    + TYPE_SECTION
    + FUNC_SECTION
    + code_section(b"\x41\x00\x41\x00\x41\x00\x1c" + BIG + b"\x7f\x1a\x0b"),
    "custom name length": HEADER + section(0, BIG + b"name"),
    "name map count": HEADER + section(0, name_bytes("name") + b"\x01\x05" + BIG + b"\x00"),
    "local name map": HEADER + section(0, name_bytes("name") + b"\x02\x06\x01\x00" + BIG + b"x"),
    "module name length": HEADER + section(0, name_bytes("name") + b"\x00\x05" + BIG),
}


@pytest.mark.parametrize("data", HUGE_CLAIMS.values(), ids=HUGE_CLAIMS.keys())
def test_a_length_claiming_gigabytes_is_refused_without_allocating(data):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = check_translate(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 16 * 2**20
    # Tables may declare 2**32 - 1 entries; a broken name section is ignored (names are only a
    # debugging aid). Everything else here is malformed or invalid.
    assert outcome == "error" or data[8] == 0 or data[8:9] == b"\x04"


def test_the_source_grows_with_the_input_not_with_declared_counts():
    body = b"\x01" + uleb(50000) + b"\x7e\x0b"  # 50,000 unused i64 locals, an empty body
    data = (
        HEADER
        + TYPE_SECTION
        + section(3, b"\x02\x00\x00")
        + section(10, b"\x02" + (uleb(len(body)) + body) * 2)
    )
    started = time.perf_counter()
    source = wasm2py.translate(data)
    assert len(source) < 100_000
    assert time.perf_counter() - started < 1


# ---- the command line -------------------------------------------------------------------------

BAD_FILES = {
    "empty": b"",
    "text": b"(module)\n",
    "header only truncated": HEADER[:6],
    "bad version": b"\0asm\x02\0\0\0",
    "section past the end": HEADER + b"\x01" + BIG,
    "invalid module": wasmtime.wat2wasm("(module (func (result i32) i64.const 0))"),
    "huge locals": HUGE_CLAIMS["locals in one group"],
    "utf-8 error in a name": HEADER + section(7, b"\x01\x02\xc3\x28\x00\x00"),
    "newline in an export name": HEADER
    + TYPE_SECTION
    + FUNC_SECTION
    + section(7, b"\x02" + name_bytes("a\nb") + b"\x00\x00" + name_bytes("a\nb") + b"\x00\x00")
    + code_section(b"\x0b"),
}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wasm2py", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("data", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_cli_reports_bad_input_in_one_line_and_writes_nothing(tmp_path: Path, data: bytes):
    source = tmp_path / "bad.wasm"
    source.write_bytes(data)
    result = run_cli(str(source), "-o", str(tmp_path / "bad.py"))
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("wasm2py: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wasm"]


def test_cli_leaves_an_existing_output_alone_on_bad_input(tmp_path: Path):
    source, output = tmp_path / "m.wasm", tmp_path / "m.py"
    source.write_bytes(BAD_FILES["section past the end"])
    output.write_text("previous = 1\n")
    result = run_cli(str(source), "-o", str(output))
    assert result.returncode == 1
    assert output.read_text() == "previous = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py", "m.wasm"]


def test_cli_prints_nothing_to_stdout_for_bad_input(tmp_path: Path):
    source = tmp_path / "m.wasm"
    source.write_bytes(BAD_FILES["invalid module"])
    result = run_cli(str(source), "-o", "-")
    assert (result.returncode, result.stdout) == (1, "")
    assert len(result.stderr.splitlines()) == 1


def test_cli_missing_input(tmp_path: Path):
    result = run_cli(str(tmp_path / "missing.wasm"), "-o", str(tmp_path / "out.py"))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
