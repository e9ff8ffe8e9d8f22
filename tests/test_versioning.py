"""Counted loops get a copy without wraparound (lower/versioning.py), taken only when the
entry values keep every stepped value in range: results match wasmtime on both sides of that
test, including counters and pointers that wrap past 2**32 or 2**31."""

from __future__ import annotations

import wasmtime
from hypothesis import example, given, settings
from hypothesis import strategies as st

import wasm2py
from tests.util import load_module

# `for (i = start; i != end; i += 4) sum += load(p), p += 8`, with p = base: the counter and
# the pointer may wrap; returns the sum, xored with the final p.
COUNT_UP = """
(module (memory (export "memory") 1)
  (func (export "count") (param $start i32) (param $end i32) (param $base i32) (result i32)
    (local $i i32) (local $p i32) (local $sum i32)
    (local.set $i (local.get $start))
    (local.set $p (local.get $base))
    (block $done (loop $next
      (local.set $sum (i32.add (local.get $sum)
        (i32.load8_u (i32.and (i32.add (local.get $p) (i32.const 3)) (i32.const 0xffff)))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $next (i32.ne (local.get $i) (local.get $end)))))
    (i32.xor (local.get $sum) (local.get $p))))
"""

# Sieve-like: `for (j = start; j <= n; j += d) mem[j & 0xffff] = 1` with a signed compare;
# returns how many bytes are set and the final j.
SIGNED_STRIDE = """
(module (memory (export "memory") 1)
  (func (export "mark") (param $start i32) (param $n i32) (param $d i32) (result i32)
    (local $j i32)
    (local.set $j (local.get $start))
    (loop $next
      (i32.store8 (i32.and (i32.add (local.get $j) (i32.const 16)) (i32.const 0xffff))
        (i32.const 1))
      (local.set $j (i32.add (local.get $j) (local.get $d)))
      (br_if $next (i32.le_s (local.get $j) (local.get $n))))
    (local.get $j)))
"""

# A rotated loop: `i = next` first, `next = i + 1` later, the exit test on i.
ROTATED = """
(module (memory (export "memory") 1)
  (func (export "sum") (param $start i32) (param $n i32) (result i32)
    (local $i i32) (local $next i32) (local $s i32)
    (local.set $next (local.get $start))
    (loop $l
      (local.set $i (local.get $next))
      (local.set $s (i32.add (local.get $s)
        (i32.load8_u (i32.and (i32.add (local.get $i) (i32.const 7)) (i32.const 0xffff)))))
      (i32.store8 (i32.and (local.get $i) (i32.const 0xffff)) (local.get $s))
      (local.set $next (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (local.get $n))))
    (i32.xor (local.get $s) (local.get $next))))
"""

U32 = st.integers(0, 2**32 - 1)


def _body(wat: str) -> str:
    return wasm2py.translate(wasmtime.wat2wasm(wat)).split("def f0(")[1].split("F0 = ")[0]


def _both(wat: str, export: str, *args) -> tuple[object, object]:
    wasm = wasmtime.wat2wasm(wat)
    ours_instance = load_module(wasm).instantiate()
    ours = ours_instance.exports[export](*args)
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    exports = instance.exports(store)
    theirs = exports[export](store, *args)
    assert ours_instance.exports["memory"].read(0, 65536) == exports["memory"].read(store, 0, 65536)
    return ours, theirs


def test_counted_loops_get_an_unwrapped_copy():
    for wat in (COUNT_UP, SIGNED_STRIDE, ROTATED):
        body = _body(wat)
        assert body.count("while True") == 2
        assert "else:" in body


@settings(max_examples=150, deadline=None)
@given(start=U32, trips=st.integers(1, 40), base=U32)
@example(start=0, trips=40, base=1000)  # the unwrapped copy
@example(start=2**32 - 40, trips=30, base=0)  # the counter wraps
@example(start=0, trips=30, base=2**32 - 100)  # the pointer wraps
def test_count_up_matches_wasmtime_when_counter_or_pointer_wraps(start, trips, base):
    end = (start + 4 * trips) % 2**32
    ours, theirs = _both(COUNT_UP, "count", start, end, base)
    assert ours == theirs


@settings(max_examples=150, deadline=None)
@given(
    start=st.one_of(U32, st.integers(2**31 - 300, 2**31 + 300)),
    n=st.one_of(U32, st.integers(2**31 - 300, 2**31 - 1)),
    d=st.integers(1, 5000),
)
@example(start=0, n=50000, d=7)  # the unwrapped copy
@example(start=5, n=2**32 - 10, d=3)  # a negative bound: one trip, by the wrapping test
def test_signed_stride_matches_wasmtime_near_the_sign_boundary(start, n, d):
    signed = lambda x: x - 2**32 if x >= 2**31 else x  # noqa: E731
    # Only cases whose (wrapping) loop ends soon: simulate it first.
    j, steps = start, 0
    while True:
        j = (j + d) % 2**32
        steps += 1
        if not signed(j) <= signed(n) or steps > 3000:
            break
    if steps > 3000:
        return
    ours, theirs = _both(SIGNED_STRIDE, "mark", start, n, d)
    assert ours == theirs


@settings(max_examples=150, deadline=None)
@given(start=U32, trips=st.integers(0, 60))
@example(start=100, trips=50)  # the unwrapped copy
@example(start=2**32 - 20, trips=50)  # i wraps past 2**32
@example(start=2**32 - 1, trips=0)  # one trip, next wraps to 0
def test_rotated_loop_matches_wasmtime_when_its_counter_wraps(start, trips):
    ours, theirs = _both(ROTATED, "sum", start, (start + trips) % 2**32)
    assert ours == theirs


# i64 locals stepped down by i32 arithmetic: `p = (p - 8) & 0xFFFFFFFF`, with p starting at
# 2**32 or above, where the first step cuts it down. (Found in review.)
I64_POINTER_STEPPED_AS_I32 = """
(module (memory (export "memory") 1)
  (func (export "f") (param $p i64) (param $n i32) (result i64)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s)
        (i32.load8_u (i32.and (i32.wrap_i64 (local.get $p)) (i32.const 0xffff)))))
      (local.set $p (i64.extend_i32_u (i32.sub (i32.wrap_i64 (local.get $p)) (i32.const 8))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (local.get $n))))
    (i64.add (local.get $p) (i64.extend_i32_u (local.get $s)))))
"""

I64_COUNTER_STEPPED_AS_I32 = """
(module (memory (export "memory") 1)
  (func (export "f") (param $i i64) (result i64)
    (block $out (loop $l
      (local.set $i (i64.extend_i32_u (i32.sub (i32.wrap_i64 (local.get $i)) (i32.const 1))))
      (br_if $out (i32.eq (i32.wrap_i64 (local.get $i)) (i32.const 15)))
      (br_if $l (i64.ne (local.get $i) (i64.const 1)))))
    (local.get $i)))
"""


def test_i64_locals_stepped_by_i32_arithmetic_from_above_2_to_the_32():
    for start in (2**40, 2**32, 1000, 2**32 - 1):
        ours, theirs = _both(I64_POINTER_STEPPED_AS_I32, "f", start, 20)
        assert ours == theirs, start
    for start in (2**32 + 20, 40, 2**33 + 18):
        ours, theirs = _both(I64_COUNTER_STEPPED_AS_I32, "f", start)
        assert ours == theirs, start


# `for (n = count; n; n--) sum += *p++`: a countdown; the counter's own step lands on 0, so
# the copy needs no bound below it.
COUNTDOWN = """
(module (memory (export "memory") 1)
  (func (export "sum") (param $n i32) (param $p i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31))
        (i32.load8_u (i32.and (local.get $p) (i32.const 0xffff)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.xor (local.get $s) (local.get $p))))
"""

# The same countdown on an i64 local stepped by i32 arithmetic, tested as an i64: from 2**32
# or above, the first step cuts it down.
I64_COUNTDOWN = """
(module (memory (export "memory") 1)
  (func (export "f") (param $n i64) (result i64)
    (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (local.get $n)))
      (local.set $n (i64.extend_i32_u (i32.sub (i32.wrap_i64 (local.get $n)) (i32.const 1))))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (i64.add (local.get $s) (local.get $n))))
"""


def test_countdown_loops_get_an_unwrapped_copy():
    body = _body(COUNTDOWN)
    assert body.count("while True") == 2
    assert "- 1\n" in body  # the counter's step, unwrapped


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 60), p=U32)
@example(n=50, p=100)  # the unwrapped copy
@example(n=50, p=2**32 - 10)  # the pointer wraps
def test_countdown_matches_wasmtime_when_its_pointer_wraps(n, p):
    ours, theirs = _both(COUNTDOWN, "sum", n, p)
    assert ours == theirs


def test_i64_countdown_stepped_by_i32_arithmetic_from_above_2_to_the_32():
    for start in (2**32 + 20, 40, 2**33 + 9, 2**32 + 1):
        ours, theirs = _both(I64_COUNTDOWN, "f", start)
        assert ours == theirs, start


# Sieve's outer loop: its counter's local is reused by the inner loop, so the counter shows
# only once the local is split into its webs.
REUSED_COUNTER = """
(module (memory (export "memory") 1)
  (func (export "f") (param $n i32) (result i32)
    (local $i i32) (local $k i32) (local $s i32)
    (local.set $i (i32.const 2))
    (loop $outer
      (local.set $k (local.get $i))
      (if (i32.eqz (i32.load8_u (i32.and (i32.add (local.get $k) (i32.const 16)) (i32.const 0xffff))))
        (then
          (local.set $s (i32.add (local.get $s) (local.get $k)))
          (local.set $i (i32.mul (local.get $k) (i32.const 3)))
          (block $done (loop $inner
            (br_if $done (i32.gt_u (local.get $i) (i32.const 60000)))
            (i32.store8 (i32.add (local.get $i) (i32.const 16)) (i32.const 1))
            (local.set $i (i32.add (local.get $i) (local.get $k)))
            (br $inner)))))
      (local.set $i (i32.add (local.get $k) (i32.const 1)))
      (br_if $outer (i32.ne (local.get $k) (local.get $n))))
    (i32.xor (local.get $s) (local.get $i))))
"""


def test_a_counter_whose_local_is_reused_inside_the_loop_gets_an_unwrapped_copy():
    body = _body(REUSED_COUNTER)
    assert "l1_3 = (l2 + 1) % 4294967296\n" in body  # the copy that wraps
    assert "l1_3 = l2 + 1\n" in body  # the copy that does not


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 3000))
@example(n=2000)
def test_reused_counter_matches_wasmtime(n):
    ours, theirs = _both(REUSED_COUNTER, "f", n)
    assert ours == theirs
