"""Ranges read off an expression's constants (lower/bounds.py) hold for every value of its
variables, and wraps they make redundant are dropped."""

from __future__ import annotations

import ast

import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

import wasm2py
from tests.util import load_module
from wasm2py.lower.bounds import bounds

_OPS = [ast.Add, ast.Sub, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor, ast.Mod, ast.LShift]
_OPS += [ast.RShift, ast.FloorDiv]


@st.composite
def expressions(draw, depth=0):
    """Random integer expressions over x and y, shaped like lowered Wasm arithmetic."""
    if depth > 4 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return ast.Name(id=draw(st.sampled_from("xy")), ctx=ast.Load())
        return ast.Constant(draw(st.integers(-(2**34), 2**34) | st.integers(0, 64)))
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return ast.IfExp(
            test=ast.Name(id="x", ctx=ast.Load()),
            body=draw(expressions(depth + 1)),
            orelse=draw(expressions(depth + 1)),
        )
    if kind == 1:
        return ast.Compare(
            left=draw(expressions(depth + 1)), ops=[ast.Lt()], comparators=[ast.Constant(3)]
        )
    op = draw(st.sampled_from(_OPS))
    right = draw(expressions(depth + 1))
    if op in (ast.LShift, ast.RShift):
        right = ast.BinOp(left=right, op=ast.BitAnd(), right=ast.Constant(63))
    return ast.BinOp(left=draw(expressions(depth + 1)), op=op(), right=right)


@settings(max_examples=3000, deadline=None)
@given(expressions(), st.integers(-(2**66), 2**66), st.integers(-(2**66), 2**66))
def test_an_expression_stays_within_its_bounds(node, x, y):
    found = bounds(node)
    if found is None:
        return
    code = compile(ast.fix_missing_locations(ast.Expression(node)), "<bounds>", "eval")
    try:
        value = eval(code, {}, {"x": x, "y": y})
    except (ZeroDivisionError, ValueError, OverflowError, MemoryError):
        return
    assert found[0] <= value <= found[1], (ast.unparse(node), x, y, found)


TABLE_ADDRESS = """
(module (memory (export "memory") 1)
  (data (i32.const 1024) "\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\04\\00\\00\\00")
  (func (export "f") (param $x i32) (param $y i32) (result i32)
    (i32.add
      (i32.load (i32.add (i32.shl (i32.and (i32.xor (local.get $x) (local.get $y))
        (i32.const 3)) (i32.const 2)) (i32.const 1024)))
      (i32.add (i32.and (local.get $x) (i32.const 255)) (i32.const 7)))))
"""


def test_masked_addresses_and_sums_need_no_wrap():
    wasm = wasmtime.wat2wasm(TABLE_ADDRESS)
    source = wasm2py.translate(wasm)
    body = source.split("def f0(")[1].split("F0 = ")[0]
    assert "1024 >> 2]" in body and "(l0 & 255) + 7)" in body, body  # neither wrapped
    ours = load_module(wasm).instantiate().exports["f"]
    for x, y in ((0, 0), (5, 3), (2**32 - 1, 7), (123456, 2**31)):
        expected = [1, 2, 3, 4][(x ^ y) & 3] + (x & 255) + 7
        assert ours(x, y) == expected


# An i32 local's top byte needs no mask where it is stored as a byte (hash's xorshift), nor
# where it is masked to 8 bits: the local's type bounds it.
TOP_BYTE = """
(module (memory (export "memory") 1)
  (func (export "f") (param $x i32) (param $y i64) (result i32)
    (i32.store8 (i32.const 0) (i32.shr_u (local.get $x) (i32.const 24)))
    (i64.store8 (i32.const 1) (i64.shr_u (local.get $y) (i64.const 56)))
    (i32.store8 (i32.const 2) (i32.shr_u (local.get $x) (i32.const 16)))
    (i32.and (i32.shr_u (local.get $x) (i32.const 24)) (i32.const 255))))
"""


def test_a_locals_type_bounds_what_is_lowered_from_it():
    wasm = wasmtime.wat2wasm(TOP_BYTE)
    body = wasm2py.translate(wasm).split("def f0(")[1].split("F0 = ")[0]
    assert "m0[0] = l0 >> 24\n" in body and "m0[1] = l1 >> 56\n" in body, body
    assert "l0 >> 16 & 255" in body and "return l0 >> 24\n" in body, body
    ours = load_module(wasm).instantiate()
    store = wasmtime.Store()
    exports = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), []).exports(store)
    for x, y in ((0, 0), (0xDEADBEEF, 2**64 - 1), (0x80000000, 0x0123456789ABCDEF)):
        signed_y = y - 2**64 if y >= 2**63 else y
        assert ours.exports["f"](x, y) == exports["f"](
            store, x - 2**32 if x >= 2**31 else x, signed_y
        )
        assert ours.exports["memory"].read(0, 3) == exports["memory"].read(store, 0, 3)
