"""Validator tests: narrow cases from text, then every non-SIMD core spec script.

A narrow case assembles one module with `wasmtime.wat2wasm` (which encodes without validating)
and checks the reason the validator gives. The spec test converts each `.wast` with
`wasm-tools json-from-wast` into out/validate-wast/ once, then requires every `assert_invalid`
module to be rejected (with the spec's wording, when the validator is the one to reject it) and
every `module` to be accepted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import wasmtime

from wasm2py.binary import decode
from wasm2py.errors import DecodeError, ValidationError
from wasm2py.validate import ALL_FEATURES, block_type, validate

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO.parent / "shared/wasm-testsuite/core"
CACHE = REPO / "out/validate-wast"


def load(wat: str):
    return decode(bytes(wasmtime.wat2wasm(wat)))


def ok(wat: str, features=None) -> None:
    validate(load(wat), features)


def invalid(wat: str, reason: str, features=None) -> ValidationError:
    """Assert validation fails with a reason starting with `reason`; return the error."""
    with pytest.raises(ValidationError) as info:
        validate(load(wat), features)
    assert info.value.reason.startswith(reason), info.value.reason
    return info.value


def func(body: str, sig: str = "", extra: str = "") -> str:
    """A module with one function `(func sig body)` and whatever `extra` declares."""
    return f"(module {extra} (func {sig} {body}))"


# -- operand stack ------------------------------------------------------------------------------


def test_binary_op_types_are_checked_with_expected_and_actual():
    err = invalid(func("i32.const 1 f32.const 2 i32.add drop"), "type mismatch")
    assert err.reason == "type mismatch: expected [i32, i32] but got [i32, f32]"
    assert err.func_index == 0
    assert err.offset is not None


def test_empty_stack_is_a_type_mismatch():
    invalid(func("i32.eqz drop"), "type mismatch: expected [i32] but got []")


def test_values_left_at_function_end():
    invalid(func("i32.const 1"), "type mismatch: expected [] but got [i32]")
    invalid(func("i64.const 1", "(result i32)"), "type mismatch")
    ok(func("i32.const 1", "(result i32)"))


def test_func_index_counts_imports_first():
    wat = '(module (import "m" "f" (func)) (func) (func i32.const 0))'
    assert invalid(wat, "type mismatch").func_index == 2


def test_unreachable_makes_stack_polymorphic():
    ok(func("unreachable i32.add", "(result i32)"))
    ok(func("unreachable drop drop drop"))
    ok(func("return i32.const 0 i32.add drop"))
    invalid(func("unreachable i64.const 0 i32.add drop"), "type mismatch")


def test_polymorphic_stack_ends_with_the_frame():
    invalid(func("block unreachable end i32.add drop"), "type mismatch")


# -- control ------------------------------------------------------------------------------------


def test_block_results_and_params():
    ok(func("block (result i32) i32.const 1 end drop"))
    ok(func("i32.const 1 block (param i32) (result i64) drop i64.const 2 end drop"))
    invalid(func("block (result i32) end drop"), "type mismatch")
    invalid(func("i32.const 1 block drop end"), "type mismatch")


def test_loop_label_carries_params():
    ok(func("i32.const 0 loop (param i32) br 0 end"))
    ok(func("loop (result i32) br 0 end drop"))
    invalid(func("i64.const 0 loop (param i64) f32.const 0 br 0 end"), "type mismatch")


def test_if_without_else_must_pass_params_through():
    ok(func("i32.const 1 i32.const 0 if (param i32) (result i32) end drop"))
    invalid(func("i32.const 0 if (result i32) i32.const 1 end drop"), "type mismatch")
    ok(func("i32.const 0 if (result i32) i32.const 1 else i32.const 2 end drop"))


def test_labels():
    invalid(func("br 1"), "unknown label 1")
    ok(func("block br 1 end"))
    invalid(func("block (result i32) i64.const 0 br_if 0 end drop"), "type mismatch")


def test_br_table_arity_must_agree():
    ok(func("block block i32.const 0 br_table 0 1 end end"))
    invalid(
        func("block (result i32) block i32.const 0 br_table 0 1 end i32.const 0 end drop"),
        "type mismatch",
    )
    # After unreachable the operand types are unknown, so differing label types still pass.
    ok(
        func(
            "block (result f32) block (result i32) unreachable br_table 0 1 end drop "
            "f32.const 0 end drop"
        )
    )


def test_return_checks_function_results():
    ok(func("i32.const 1 return", "(result i32)"))
    invalid(func("f32.const 1 return", "(result i32)"), "type mismatch")


def test_calls():
    ok(func("i32.const 1 call 0", "(param i32) (result i32)"))
    invalid(func("call 3"), "unknown function 3")
    extra = "(type $t (func (param i32))) (table 1 funcref)"
    ok(func("i32.const 1 i32.const 0 call_indirect (type $t)", extra=extra))
    invalid(func("i32.const 0 call_indirect (type $t)", extra=extra), "type mismatch")
    invalid(func("i32.const 0 call_indirect (param i32)"), "unknown table 0")
    extern = "(type $t (func)) (table 1 externref)"
    invalid(func("i32.const 0 call_indirect (type $t)", extra=extern), "type mismatch")


# -- parametric ---------------------------------------------------------------------------------


def test_select():
    ok(func("i32.const 1 i32.const 2 i32.const 0 select drop"))
    invalid(func("i32.const 1 i64.const 2 i32.const 0 select drop"), "type mismatch")
    invalid(func("ref.null func ref.null func i32.const 0 select drop"), "type mismatch")
    ok(func("ref.null func ref.null func i32.const 0 select (result funcref) drop"))
    ok(func("unreachable select drop"))


# -- variables ----------------------------------------------------------------------------------


def test_locals():
    ok(func("local.get 0 local.set 1", "(param i32) (local i32)"))
    invalid(func("local.get 2 drop", "(param i32) (local i32)"), "unknown local 2")
    invalid(func("f32.const 0 local.tee 0 drop", "(param i32)"), "type mismatch")


def test_too_many_locals_are_refused_before_expanding_them():
    invalid(func("", "(local" + " i64" * 50_001 + ")"), "too many locals")


def test_globals():
    extra = "(global $c i32 (i32.const 0)) (global $m (mut i32) (i32.const 0))"
    ok(func("global.get $c global.set $m", extra=extra))
    invalid(func("i32.const 0 global.set $c", extra=extra), "global is immutable")
    invalid(func("global.get 5 drop", extra=extra), "unknown global 5")


# -- memory and tables --------------------------------------------------------------------------


def test_memory_access():
    ok(func("i32.const 0 i64.load align=8 drop", extra="(memory 1)"))
    invalid(
        func("i32.const 0 i64.load align=16 drop", extra="(memory 1)"),
        "alignment must not be larger than natural",
    )
    invalid(func("i32.const 0 i32.load8_u drop"), "unknown memory 0")
    invalid(func("memory.size drop"), "unknown memory 0")


def test_bulk_memory_needs_data_count_and_segments():
    ok(func("i32.const 0 i32.const 0 i32.const 0 memory.init 0", extra='(memory 1) (data "x")'))
    invalid(func("data.drop 1", extra='(memory 1) (data "x")'), "unknown data segment 1")
    invalid(func("elem.drop 0"), "unknown elem segment 0")


def test_table_ops():
    extra = "(table $f 1 funcref) (table $e 1 externref) (elem $s func)"
    ok(func("i32.const 0 table.get $e drop", extra=extra))
    invalid(func("i32.const 0 ref.null func table.set $e", extra=extra), "type mismatch")
    invalid(
        func("i32.const 0 i32.const 0 i32.const 0 table.copy $e $f", extra=extra), "type mismatch"
    )
    invalid(
        func("i32.const 0 i32.const 0 i32.const 0 table.init $e $s", extra=extra), "type mismatch"
    )
    invalid(func("table.size 2 drop", extra=extra), "unknown table 2")


def test_ref_func_must_be_declared():
    invalid(func("ref.func 0 drop"), "undeclared function reference")
    ok(func("ref.func 0 drop", extra="(elem declare func 0)"))
    ok('(module (func (export "f") ref.func 0 drop))')
    ok("(module (global funcref (ref.func 0)) (func ref.func 0 drop))")


def test_ref_is_null_needs_a_reference():
    invalid(func("i32.const 0 ref.is_null drop"), "type mismatch")
    ok(func("unreachable ref.is_null drop"))


# -- module-level rules -------------------------------------------------------------------------


def test_limits():
    invalid("(module (memory 65537))", "memory size must be at most 65536 pages (4GiB)")
    invalid("(module (memory 2 1))", "size minimum must not be greater than maximum")
    invalid("(module (table 2 1 funcref))", "size minimum must not be greater than maximum")
    invalid("(module (memory 1) (memory 1))", "multiple memories")
    ok("(module (memory 0 65536))")


def test_exports():
    invalid('(module (func) (export "a" (func 0)) (export "a" (func 0)))', "duplicate export name")
    invalid('(module (export "a" (global 0)))', "unknown global 0")


def test_start_function_type():
    invalid("(module (func (param i32)) (start 0))", "start function")
    invalid("(module (start 1))", "unknown function 1")
    ok("(module (func) (start 0))")


def test_constant_expressions():
    invalid("(module (global i32 (i32.const 0) (i32.const 1) (i32.add)))", "constant expression")
    invalid("(module (global i32 (i32.const 0)) (global i32 (global.get 0)))", "unknown global 0")
    mut = '(global (import "m" "g") (mut i32))'
    invalid(f"(module {mut} (global i32 (global.get 0)))", "constant expression required")
    ok('(module (global (import "m" "g") i32) (global i32 (global.get 0)))')
    invalid("(module (global i32 (i64.const 0)))", "type mismatch: expected [i32] but got [i64]")
    invalid("(module (global i32))", "type mismatch")


def test_segments():
    invalid("(module (data (i32.const 0)))", "unknown memory 0")
    invalid("(module (elem (i32.const 0) func))", "unknown table 0")
    invalid("(module (memory 1) (data (i64.const 0)))", "type mismatch")
    invalid("(module (table 1 externref) (elem (i32.const 0) func))", "type mismatch")


# -- features -----------------------------------------------------------------------------------

MVP: frozenset[str] = frozenset()


def test_all_features_by_default():
    assert ALL_FEATURES == {
        "sign-extension",
        "saturating-float-to-int",
        "multi-value",
        "bulk-memory",
        "reference-types",
    }


@pytest.mark.parametrize(
    "wat, feature",
    [
        (func("i32.const 0 i32.extend8_s drop"), "sign-extension"),
        (func("f32.const 0 i32.trunc_sat_f32_s drop"), "saturating-float-to-int"),
        (
            func("i32.const 0 i32.const 0 i32.const 0 memory.fill", extra="(memory 1)"),
            "bulk-memory",
        ),
        (func("ref.null func drop"), "reference-types"),
        (func("i32.const 0 i32.const 0 i32.const 0 select (result i32) drop"), "reference-types"),
        (func("i32.const 1 i32.const 2", "(result i32 i32)"), "multi-value"),
        (func("block (result i32 i32) unreachable end drop drop"), "multi-value"),
        (func("i32.const 1 block (param i32) drop end"), "multi-value"),
        (func("", "(param externref)"), "reference-types"),
        ("(module (table 1 funcref) (table 1 funcref))", "reference-types"),
        ('(module (memory 1) (data "x"))', "bulk-memory"),
        ("(module (elem func))", "bulk-memory"),
    ],
)
def test_disabled_feature_is_named(wat, feature):
    with pytest.raises(ValidationError) as info:
        validate(load(wat), MVP)
    assert feature in info.value.reason
    validate(load(wat), {feature})


def test_mvp_module_passes_without_features():
    wat = """(module (memory 1) (table 1 funcref) (elem (i32.const 0) 0)
        (func (param i32) (result i32) local.get 0 i32.load offset=4 i32.const 0 call_indirect
              (param i32) (result i32)))"""
    ok(wat, MVP)


def test_simd_is_rejected():
    invalid(func("", "(param v128)"), "SIMD is not supported")


# -- helpers and speed --------------------------------------------------------------------------


def test_block_type_helper():
    module = load("(module (type (func (param i32) (result i64))))")
    assert block_type(module, None).results == ()
    assert block_type(module, "f32").results == ("f32",)
    assert block_type(module, 0).params == ("i32",)


def test_large_module_validates_quickly():
    body = "local.get 0 i32.const 1 i32.add local.set 0 " * 2000
    funcs = " ".join(f"(func (param i32) (local i64) block {body} end)" for _ in range(50))
    module = load(f"(module {funcs})")
    assert sum(len(c.body) for c in module.codes) > 400_000
    start = time.perf_counter()
    validate(module)
    assert time.perf_counter() - start < 2.0


# -- the spec suite -----------------------------------------------------------------------------

SPEC_FILES = sorted(p.stem for p in SUITE.glob("*.wast") if not p.stem.startswith("simd_"))


def _converted(stem: str) -> tuple[Path, list[dict]]:
    """The directory and commands of one script, converting it on first use."""
    out = CACHE / stem
    script = out / f"{stem}.json"
    if not script.exists():
        out.mkdir(parents=True, exist_ok=True)
        tool = Path(sys.executable).parent / "wasm-tools"
        subprocess.run(
            [tool, "json-from-wast", SUITE / f"{stem}.wast", "-o", script, "--wasm-dir", out],
            check=True,
            capture_output=True,
        )
    return out, json.loads(script.read_text())["commands"]


def spec_failures(stem: str) -> tuple[int, int, list[str]]:
    """Run one script's module and assert_invalid commands: (modules, invalids, failures)."""
    out, commands = _converted(stem)
    modules = invalids = 0
    failures = []
    for cmd in commands:
        if cmd["type"] == "module":
            modules += 1
            path = out / cmd.get("binary_filename", cmd["filename"])
            try:
                validate(decode(path.read_bytes()))
            except (DecodeError, ValidationError) as err:
                failures.append(f"line {cmd['line']}: valid module rejected: {err}")
        elif cmd["type"] == "assert_invalid" and cmd.get("module_type") == "binary":
            invalids += 1
            try:
                validate(decode((out / cmd["filename"]).read_bytes()))
            except DecodeError:
                continue
            except ValidationError as err:
                # The reason must start with the reference interpreter's wording.
                if not err.reason.startswith(cmd["text"]):
                    failures.append(f"line {cmd['line']}: {err.reason!r}, not {cmd['text']!r}")
                continue
            failures.append(f"line {cmd['line']}: accepted, expected {cmd['text']!r}")
    return modules, invalids, failures


@pytest.mark.skipif(not SUITE.is_dir(), reason="spec test suite not found")
@pytest.mark.parametrize("stem", SPEC_FILES)
def test_spec_script(stem):
    _, _, failures = spec_failures(stem)
    assert not failures, "\n".join(failures)
