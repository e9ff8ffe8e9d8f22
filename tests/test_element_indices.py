"""Element indices (lower/indices.py) and split webs (lower/webs.py): aligned addresses are
computed as view indices, pointers held as indices, reused locals split, results unchanged."""

from __future__ import annotations

import ast

import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st
from wasm2py_runtime import Trap

import wasm2py
from tests.util import load_module, run_both
from wasm2py.lower.aligned import Alignment
from wasm2py.lower.indices import _Rewrite


def source_of(wat: str) -> str:
    return wasm2py.translate(wasmtime.wat2wasm(wat))


def function_source(wat: str, index: int = 0) -> str:
    source = source_of(wat)
    return source.split(f"def f{index}(")[1].split(f"F{index} = ")[0]


POINTER_LOOP = """
(module (memory 1)
  (func (export "sum") (param $n i32) (result i32)
    (local $p i32) (local $i i32) (local $s i32)
    (local.set $p (i32.const 1024))
    (block $done (loop $fill
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (local.get $p) (i32.mul (local.get $i) (local.get $i)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $fill)))
    (local.set $p (i32.const 1024))
    (local.set $i (i32.const 0))
    (block $done (loop $sum
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load offset=4 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $sum)))
    (local.get $s)))
"""


def test_pointer_stepping_through_an_array_is_held_as_an_element_index():
    body = function_source(POINTER_LOOP)
    assert ">> 2" not in body
    assert "m0I[l1] = " in body  # the store: the pointer itself is the index
    for n in (0, 1, 5, 100, 7000):
        ours, theirs = run_both(POINTER_LOOP, "sum", n)
        assert ours == theirs


def _outcome(call, *args):
    try:
        return call(*args)
    except (Trap, wasmtime.Trap):
        return "trap"


def test_index_past_the_end_traps_like_the_byte_address():
    ours = load_module(wasmtime.wat2wasm(POINTER_LOOP)).instantiate().exports["sum"]
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, wasmtime.wat2wasm(POINTER_LOOP))
    theirs = wasmtime.Instance(store, module, []).exports(store)["sum"]
    for n in (16127, 16128, 16129, 17000):  # the fill loop runs off the 64 KiB page
        assert _outcome(ours, n) == _outcome(theirs, store, n), n


WRAPPING_POINTER = """
(module (memory 1)
  (func (export "f") (param $start i32) (result i32)
    (local $p i32) (local $i i32) (local $s i32)
    (i32.store (i32.const 0) (i32.const 3))
    (i32.store (i32.const 4) (i32.const 50))
    (i32.store (i32.const 8) (i32.const 700))
    (i32.store (i32.const 12) (i32.const 9000))
    (local.set $p (i32.and (local.get $start) (i32.const -16)))
    (block $done (loop $next
      (br_if $done (i32.eq (local.get $i) (i32.const 4)))
      (local.set $s (i32.add (local.get $s)
        (i32.load (i32.add (local.get $p) (i32.const 16)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $s)))
"""


def test_pointer_that_wraps_past_four_gibibytes_reads_what_the_wrapped_address_holds():
    body = function_source(WRAPPING_POINTER)
    assert "m0I[l1 + 4 if l1 < 1073741820 else l1 - 1073741820]" in body
    # p = -16: p + 16 wraps to 0, so the loop reads addresses 0, 4, 8 and 12.
    ours = load_module(wasmtime.wat2wasm(WRAPPING_POINTER)).instantiate().exports["f"]
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, wasmtime.wat2wasm(WRAPPING_POINTER))
    theirs = wasmtime.Instance(store, module, []).exports(store)["f"]
    for start in (0xFFFFFFF0, 0xFFFFFFF5, 0, 16, 0x7FFFFFF0):
        assert _outcome(ours, start) == _outcome(theirs, store, start), start


REUSED_LOCAL = """
(module (memory 1)
  (func (export "f") (param $n i32) (result i32)
    (local $x i32) (local $s i32) (local $i i32)
    ;; $x first counts odd numbers...
    (local.set $x (i32.const 1))
    (block $done (loop $odd
      (br_if $done (i32.ge_u (local.get $x) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (local.get $x)))
      (local.set $x (i32.add (local.get $x) (i32.const 2)))
      (br $odd)))
    ;; ...then walks an array of i32
    (local.set $x (i32.const 256))
    (block $done (loop $walk
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (local.get $x) (local.get $s))
      (local.set $s (i32.add (i32.load (local.get $x)) (local.get $i)))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $walk)))
    (local.get $s)))
"""


def test_local_reused_for_a_counter_and_a_pointer_is_split_and_the_pointer_indexed():
    body = function_source(REUSED_LOCAL)
    assert "l1_" in body  # the pointer's web has its own name
    assert ">> 2" not in body
    for n in (0, 1, 2, 9, 1000):
        ours, theirs = run_both(REUSED_LOCAL, "f", n)
        assert ours == theirs


# ---------------------------------------------------------------- the identity, by property

_TERMS = st.one_of(
    st.tuples(st.just("shl"), st.sampled_from("xy"), st.integers(0, 5)),
    st.tuples(st.just("mul"), st.sampled_from("xy"), st.integers(-3, 40)),
    st.tuples(st.just("const"), st.integers(-(2**33), 2**33)),
    st.tuples(st.just("name"), st.sampled_from(["n", "p"])),
)


def _term(term) -> ast.expr:
    kind = term[0]
    if kind == "shl":
        return ast.BinOp(ast.Name(term[1], ast.Load()), ast.LShift(), ast.Constant(term[2]))
    if kind == "mul":
        return ast.BinOp(ast.Name(term[1], ast.Load()), ast.Mult(), ast.Constant(term[2]))
    if kind == "const":
        return ast.Constant(term[1])
    return ast.Name(term[1], ast.Load())


@settings(max_examples=400, deadline=None)
@given(
    terms=st.lists(_TERMS, min_size=1, max_size=4),
    signs=st.lists(st.booleans(), min_size=4, max_size=4),
    wrap=st.sampled_from([None, "and", "mod"]),
    shift=st.integers(1, 3),
    p_held=st.booleans(),
    values=st.tuples(*[st.integers(0, 2**32 - 1)] * 4),
)
def test_index_of_an_aligned_address_equals_the_address_shifted(
    terms, signs, wrap, shift, p_held, values
):
    address = _term(terms[0])
    for term, negative in zip(terms[1:], signs):
        address = ast.BinOp(address, ast.Sub() if negative else ast.Add(), _term(term))
    if wrap == "and":
        address = ast.BinOp(address, ast.BitAnd(), ast.Constant(0xFFFFFFFF))
    elif wrap == "mod":
        address = ast.BinOp(address, ast.Mod(), ast.Constant(2**32))
    x, y, n, p = values
    n &= -8  # n and p are known multiples of 8; p may be held as an element index
    p &= -8
    alignment = Alignment({"n": 3, "p": 3}, {})
    chosen = {"p": shift} if p_held else {}
    rewrite = _Rewrite(chosen, lambda state: alignment)
    rewrite.alignment = alignment
    if rewrite.index_cost(address, shift, alignment) is None:
        return  # not provably a multiple of 2**shift: left as `address >> shift`
    index = rewrite.index(address, shift, alignment)
    env = {"x": x, "y": y, "n": n, "p": p}
    expected = eval(compile(ast.fix_missing_locations(ast.Expression(address)), "a", "eval"), env)
    assert expected % (1 << shift) == 0
    if p_held:
        env["p"] = p >> shift
    got = eval(compile(ast.fix_missing_locations(ast.Expression(index)), "i", "eval"), env)
    assert got == expected >> shift
