"""wasm2py against wasmtime: random programs, and the reduced divergences they found.

Short, deterministic runs of the differential fuzzer in tests/fuzz.py (`python -m tests.fuzz
diff` is the long run): `wasm-tools smith` modules and hypothesis-generated function bodies,
each instantiated in both engines, every export called, results, traps and exported state
compared. Below them, each divergence the fuzzer found, reduced to a few lines of .wat.
"""

from __future__ import annotations

import random

import wasmtime
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import fuzz
from tests.fuzz import Chooser, Outcome, Report, Wasm2pyRun, WasmtimeRun
from wasm2py.binary import decode

# ---- the harness itself -----------------------------------------------------------------------


def test_quiet_nans_match_whatever_their_payload_but_signalling_ones_must_be_exact():
    assert fuzz.same_value(("f32", 0x7FC00000), ("f32", 0xFFC00001))
    assert fuzz.same_value(("f64", 0x7FF8000000000000), ("f64", 0x7FF8000000000001))
    assert not fuzz.same_value(("f32", 0x7FA00000), ("f32", 0x7FE00000))
    assert not fuzz.same_value(("f32", 0x7FC00000), ("f32", 0x7F800000))  # NaN vs infinity
    assert not fuzz.same_value(("f64", 0), ("f64", 2**63))  # +0 vs -0
    assert not fuzz.same_value(("i32", 0x7FC00000), ("i32", 0xFFC00000))


def test_traps_match_by_wasmtime_code_and_stack_exhaustion_matches_anything():
    table = Outcome(trap="out of bounds table access|undefined element")
    assert fuzz.same_outcome(table, Outcome(trap="undefined element"))
    assert not fuzz.same_outcome(table, Outcome(trap="integer overflow"))
    assert not fuzz.same_outcome(table, Outcome(values=(("i32", 0),)))
    assert fuzz.same_outcome(Outcome(exhausted=True), Outcome(trap="integer overflow"))
    assert fuzz.same_outcome(Outcome(values=(("i32", 1),)), Outcome(exhausted=True))


def test_a_wrong_result_or_state_is_reported(monkeypatch):
    wat = """(module (memory (export "m") 1) (global (export "g") (mut i32) (i32.const 0))
      (func (export "f") (param i32) (result i32) (i32.store8 (i32.const 3) (i32.const 9))
        (local.get 0)))"""
    wasm = wasmtime.wat2wasm(wat)
    assert compare(wasm).divergences == []
    honest = Wasm2pyRun.call

    def off_by_one(self, name, args):
        outcome = honest(self, name, args)
        return Outcome(tuple((t, v ^ 1) for t, v in outcome.values))

    monkeypatch.setattr(Wasm2pyRun, "call", off_by_one)
    assert "call 'f'" in compare(wasm).divergences[0]
    monkeypatch.setattr(Wasm2pyRun, "call", honest)
    honest_state = Wasm2pyRun.state
    monkeypatch.setattr(
        Wasm2pyRun, "state", lambda self: {**honest_state(self), "m": b"\0" * 65536}
    )
    assert "export 'm'" in compare(wasm).divergences[0]


def test_floats_cross_into_both_engines_bit_exactly():
    """Signalling NaNs and NaN payloads pass through parameters and results unchanged."""
    wasm = wasmtime.wat2wasm(
        '(module (func (export "id") (param f32 f64) (result f64 f32) local.get 1 local.get 0))'
    )
    for run in (WasmtimeRun(wasm), Wasm2pyRun(wasm)):
        assert run.instantiate() == Outcome()
        outcome = run.call("id", [0x7FA00001, 0xFFF4000000000123])
        assert outcome.values == (("f64", 0xFFF4000000000123), ("f32", 0x7FA00001))


def test_smith_globals_are_all_exported_and_the_fuel_counter_is_found():
    wasm = fuzz.smith(random.Random(3).randbytes(800))
    assert wasm is not None
    before = [e.name for e in decode(wasm).exports]
    after = [e.name for e in decode(fuzz.export_hidden_globals(wasm)).exports]
    assert after[: len(before)] == before
    assert fuzz.FUEL_EXPORT in after and "wasm2py-fuzz-g2" in after


def test_the_reducer_keeps_only_what_the_failure_needs():
    text = """(module
      (memory 1)
      (func (export "f") (param i32) (result i32)
        block (result i32)
          local.get 0
          i32.const 2
          i32.add
          loop
            i32.const 1
            drop
          end
          i32.const 7
          i32.div_s
        end
        i32.const 1
        i32.xor))"""

    def still_there(lines: list[str]) -> bool:
        try:
            wasm = wasmtime.wat2wasm("\n".join(lines))
        except wasmtime.WasmtimeError:
            return False
        return fuzz.reference_accepts(wasm) and any("div_s" in line for line in lines)

    reduced = fuzz.reduce_lines(text.splitlines(), still_there)
    assert still_there(reduced)
    assert not any(word in "\n".join(reduced) for word in ("memory", "block", "loop", "drop"))


def compare(wasm: bytes) -> Report:
    return fuzz.compare_module(wasm, random.Random(0))


# ---- short fuzzing runs -----------------------------------------------------------------------

SMITH_MODULES = 1000  # about 15 s


def test_smith_modules_agree_with_wasmtime():
    divergences = []
    calls = 0
    for index in range(SMITH_MODULES):
        if index % 5 == 4:
            continue  # diff_one's share of generated bodies: the hypothesis test covers those
        source, report, _ = fuzz.diff_one(index, seed=0)
        calls += report.calls
        divergences += [f"module {index}: {d}" for d in report.divergences]
    assert not divergences, "\n".join(divergences)
    assert calls > 5 * SMITH_MODULES // 2  # the modules really export functions that get called


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    # No shrinking (it can take minutes here): the failure prints the module's text, and
    # `python -m tests.fuzz reduce` cuts it down.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_generated_function_bodies_agree_with_wasmtime(data):
    wat = fuzz.generated_module(Chooser.from_hypothesis(data), size=30)
    wasm = wasmtime.wat2wasm(wat)
    seed = data.draw(st.integers(0, 2**32 - 1))
    flat = data.draw(st.sampled_from([None, True]))
    report = fuzz.compare_module(wasm, random.Random(seed), arg_sets=4, flat=flat)
    assert report.skipped is None, report.skipped
    assert not report.divergences, "\n".join(report.divergences) + "\n" + wat


# ---- divergences found by fuzzing, reduced ----------------------------------------------------


def assert_agrees(wat: str, calls: list[tuple[str, list]]) -> None:
    """Instantiate in both engines, make `calls` (bit patterns for floats), compare each
    outcome and every exported memory, global and table afterwards."""
    wasm = wasmtime.wat2wasm(wat)
    reference, ours = WasmtimeRun(wasm), Wasm2pyRun(wasm)
    assert reference.instantiate() == ours.instantiate(reference.host)
    for name, args in calls:
        expected, actual = reference.call(name, args), ours.call(name, args)
        assert fuzz.same_outcome(expected, actual), f"{name}{args}: {actual}, want {expected}"
        report = Report()
        assert fuzz.compare_state(report, f"after {name}", reference, ours), report.divergences


# Code after a block with results whose end is unreachable (its body ends in unreachable, or
# br or br_table to an outer label, and nothing branches to the block) is dead; it was lowered
# as if live and popped the result the block never produced (IndexError, ValueError, None in
# the AST). Fixed in d7f7ac5.


def test_dead_code_after_a_block_ending_in_unreachable():
    assert_agrees('(module (func (export "f") block (result f32) unreachable end drop))',
                  [("f", [])])  # fmt: skip


def test_dead_code_after_a_block_left_by_an_outer_branch_drop():
    assert_agrees('(module (func (export "f") block block (result f32) br 1 end drop end))',
                  [("f", [])])  # fmt: skip


def test_dead_code_after_a_block_left_by_an_outer_branch_operator():
    assert_agrees(
        """(module (func (export "f") (param i32) (result i32)
          local.get 0
          block block (result i32) br 1 end drop end
          i32.const 1 i32.xor))""",
        [("f", [5])],
    )


def test_dead_code_after_a_block_left_by_an_outer_branch_store():
    assert_agrees(
        """(module (memory 1) (func (export "f") (param f64) (result f32)
          block (result f32)
            block (result i32) f32.const 1 br 1 end
            loop (result f64) local.get 0 end
            f64.store
            f32.const 2
          end))""",
        [("f", [0])],
    )


# local.set/local.tee of a value that can trap or has effects did not first evaluate the impure
# entries pending below it (only those reading the written local), so a pending load, trapping
# operator or call ran after it: the wrong trap, or a later read seeing state from before the
# call. Fixed in d7f7ac5.


def test_a_trapping_load_traps_before_a_later_trapping_local_set():
    assert_agrees(
        """(module (memory 1) (func (export "f") (param f64) (result i64) (local i32)
          i32.const 65535 i64.load32_s            ;; out of bounds: traps first
          local.get 0 i32.trunc_f64_u local.set 1  ;; would overflow
        ))""",
        [("f", [0x7FF0000000000000])],
    )


def test_a_call_runs_before_a_later_local_set_reads_the_global_it_wrote():
    assert_agrees(
        """(module
          (global $g (export "g") (mut i32) (i32.const 0))
          (func $f (result i32) (global.set $g (i32.const 1)) (i32.const 7))
          (func (export "run") (result i32 i32) (local i32)
            call $f
            global.get $g local.set 0
            local.get 0))""",
        [("run", [])],
    )


def test_a_call_runs_before_a_later_local_set_reads_the_memory_it_wrote():
    assert_agrees(
        """(module (memory (export "m") 1)
          (func $f (result i32) (i32.store (i32.const 0) (i32.const 5)) (i32.const 7))
          (func (export "run") (result i32 i32) (local i32)
            call $f
            i32.const 0 i32.load local.set 0
            local.get 0))""",
        [("run", [])],
    )


def test_a_call_runs_before_a_later_local_set_traps():
    assert_agrees(
        """(module
          (global $g (export "g") (mut i32) (i32.const 0))
          (func $f (result i32) (global.set $g (i32.const 1)) (i32.const 7))
          (func (export "run") (param f64) (result i32) (local i32)
            call $f
            local.get 0 i32.trunc_f64_s local.set 1))""",
        [("run", [0x7FF8000000000000])],
    )


def test_a_local_write_keeps_older_pending_traps_first():
    assert_agrees(
        """(module (memory 1) (func (export "f") (param f32) (result i64 i64)
          i32.const 65535 i64.load       ;; out of bounds: traps first
          local.get 0 i64.trunc_f32_s    ;; NaN: would trap, and reads local 0
          f32.const 0 local.set 0))      ;; the write that spills it""",
        [("f", [0x7FC00000])],
    )


def test_a_local_write_keeps_an_older_pending_call_first():
    assert_agrees(
        """(module (memory (export "m") 1)
          (func $f (result i32) (i32.store (i32.const 0) (i32.const 5)) (i32.const 7))
          (func (export "f") (param i32) (result i32 i32)
            call $f                   ;; stores 5 at 0
            local.get 0 i32.load      ;; reads it, and reads local 0
            i32.const 9 local.set 0)) ;; the write that spills the load""",
        [("f", [0])],
    )
