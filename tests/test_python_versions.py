"""Generated code and the runtime run on every Python we support, not only the translator's.

Each interpreter found on the machine (pyenv's CPython 3.9 to 3.13, Debian's pypy3) imports
modules translated here and must print exactly what this interpreter prints for them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime

import wasm2py

ROOT = Path(__file__).resolve().parents[1]

FEATURES = r"""(module
  (memory (export "memory") 1 2)
  (table 4 funcref)
  (global $g (mut i64) (i64.const -5))
  (elem (i32.const 0) $sq $neg)
  (type $un (func (param i32) (result i32)))
  (func $sq (type $un) (i32.mul (local.get 0) (local.get 0)))
  (func $neg (type $un) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "dispatch") (param i32 i32) (result i32)
    (call_indirect (type $un) (local.get 1) (local.get 0)))
  (func (export "floats") (param f32 f64) (result f32 f64)
    (f32.sqrt (f32.add (local.get 0) (f32.const 0.1)))
    (f64.nearest (f64.mul (local.get 1) (f64.const 2.5))))
  (func (export "bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func (export "mem") (param i32 i64) (result i64)
    (i64.store offset=3 (local.get 0) (local.get 1))
    (drop (memory.grow (i32.const 1)))
    (i64.add (i64.load offset=3 (local.get 0)) (i64.extend_i32_u (i32.load8_s offset=3 (local.get 0)))))
  (func (export "glob") (result i64) (global.set $g (i64.mul (global.get $g) (i64.const 3))) (global.get $g))
  (func (export "switch") (param i32) (result i32)
    (block (block (block (br_table 0 1 2 (local.get 0))) (return (i32.const 100)))
      (return (i32.const 200)))
    (i32.const 300))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $forever (export "forever") (param i32) (result i32)
    (i32.add (call $forever (local.get 0)) (i32.const 1)))
)"""

CALLS = [
    ("dispatch", [7, 0]),
    ("dispatch", [7, 1]),
    ("dispatch", [7, 3]),
    ("floats", [1.5, 3.3]),
    ("bits", [-0.0]),
    ("mem", [100, -2]),
    ("glob", []),
    ("switch", [0]),
    ("switch", [1]),
    ("switch", [9]),
    ("div", [-(2**31), -1]),
    ("div", [7, 0]),
    ("forever", [1]),  # with the recursion limit set very high: a trap, never a crash
]

RUNNER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import features
from wasm2py_runtime import Trap
results = []
inst = features.instantiate()
sys.setrecursionlimit(200000)
for name, args in json.loads(sys.argv[2]):
    try:
        results.append(repr(inst.exports[name](*args)))
    except Trap as e:
        results.append("trap: " + e.message)
print(json.dumps(results))
"""


def interpreters() -> list[str]:
    found = []
    pyenv = Path.home() / ".pyenv" / "versions"
    for minor in range(9, 14):
        candidates = sorted(pyenv.glob(f"3.{minor}.*/bin/python3"))
        if candidates:
            found.append(str(candidates[-1]))
    if shutil.which("pypy3"):
        found.append(shutil.which("pypy3"))
    return found


@pytest.fixture(scope="module")
def translated(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("versions")
    source = wasm2py.translate(wasmtime.wat2wasm(FEATURES), name="features")
    (directory / "features.py").write_text(source)
    (directory / "wasm2py_runtime").symlink_to(ROOT / "runtime")
    return directory


def run_with(python: str, directory: Path) -> list[str]:
    result = subprocess.run(
        [python, "-c", RUNNER, str(directory), json.dumps(CALLS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=directory,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("python", interpreters())
def test_generated_code_behaves_the_same_on(python, translated):
    assert run_with(python, translated) == run_with(sys.executable, translated)


def test_several_interpreters_are_checked():
    assert len(interpreters()) >= 2, "expected pyenv's CPythons on this machine"
