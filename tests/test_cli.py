"""The command line: translation, and one clear line plus exit code 1 for every bad input."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime

ADD = wasmtime.wat2wasm(
    '(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'
)


def wasm2py(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wasm2py", *args], capture_output=True, text=True, cwd=cwd
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wasm2py: error:"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_translates_to_an_importable_module(tmp_path):
    (tmp_path / "add.wasm").write_bytes(ADD)
    result = wasm2py("add.wasm", "-o", "add.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    mode = stat.S_IMODE((tmp_path / "add.py").stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    check = subprocess.run(
        [sys.executable, "-c", "import add; print(add.add(2, 3))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert check.stdout.strip() == "5"


def test_default_output_is_input_with_py_suffix_and_dash_is_stdout(tmp_path):
    (tmp_path / "add.wasm").write_bytes(ADD)
    assert wasm2py("add.wasm", cwd=tmp_path).returncode == 0
    assert (tmp_path / "add.py").exists()
    result = wasm2py("add.wasm", "-o", "-", cwd=tmp_path)
    assert "def instantiate" in result.stdout


def test_missing_file(tmp_path):
    assert_one_line_error(wasm2py("nope.wasm", "-o", "x.py", cwd=tmp_path), "nope.wasm")
    assert not (tmp_path / "x.py").exists()


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"hello, not wasm", "magic header"),
        (ADD[: len(ADD) // 2], "byte"),
        (b"", "byte"),
    ],
    ids=["not-wasm", "truncated", "empty"],
)
def test_malformed_input(tmp_path, data, fragment):
    (tmp_path / "bad.wasm").write_bytes(data)
    assert_one_line_error(wasm2py("bad.wasm", "-o", "bad.py", cwd=tmp_path), fragment)
    assert not (tmp_path / "bad.py").exists()


def test_invalid_module_names_function_and_offset(tmp_path):
    wasm = wasmtime.wat2wasm("(module (func) (func (result i32) (f32.const 0)))")
    (tmp_path / "invalid.wasm").write_bytes(wasm)
    result = wasm2py("invalid.wasm", "-o", "invalid.py", cwd=tmp_path)
    assert_one_line_error(result, "type mismatch", "function 1", "byte 0x")
    assert not (tmp_path / "invalid.py").exists()


def test_unwritable_output_leaves_nothing_behind(tmp_path):
    (tmp_path / "add.wasm").write_bytes(ADD)
    assert_one_line_error(
        wasm2py("add.wasm", "-o", "no/such/dir/add.py", cwd=tmp_path), "cannot write"
    )
    # Even root cannot replace a directory with a file: the temporary file must be removed.
    (tmp_path / "taken").mkdir()
    assert_one_line_error(wasm2py("add.wasm", "-o", "taken", cwd=tmp_path), "cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["add.wasm", "taken"]


def test_existing_output_is_kept_when_translation_fails(tmp_path):
    (tmp_path / "bad.wasm").write_bytes(b"\0asm\x01\0\0\0\x01")
    (tmp_path / "out.py").write_text("previous = True\n")
    assert_one_line_error(wasm2py("bad.wasm", "-o", "out.py", cwd=tmp_path))
    assert (tmp_path / "out.py").read_text() == "previous = True\n"


def test_unsupported_feature_flag(tmp_path):
    (tmp_path / "add.wasm").write_bytes(ADD)
    assert_one_line_error(wasm2py("add.wasm", "--features", "simd", cwd=tmp_path), "simd")


def test_progress_bar_reports_functions_on_a_terminal(monkeypatch):
    import io

    from wasm2py.cli import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bar = ProgressBar("big.wasm", stream)
    bar(1, 4)  # within the first two seconds: silent
    assert stream.getvalue() == ""
    monkeypatch.setattr(ProgressBar, "DELAY", 0.0)
    bar(2, 4)
    bar.close()
    assert "translating big.wasm [" in stream.getvalue() and "2/4 functions" in stream.getvalue()
    assert stream.getvalue().endswith("\n")


WASI_PROGRAMS = Path(__file__).resolve().parent / "wasi"


def test_run_translates_into_a_cache_and_runs_the_command(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    program = str(WASI_PROGRAMS / "exit_code.wasm")
    for _ in range(2):  # the second run uses the cached translation
        result = subprocess.run(
            [sys.executable, "-m", "wasm2py", "run", program, "--", "exit", "3"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert result.returncode == 3, result.stderr
        assert result.stdout.startswith("ending by exit 3")
    assert len(list((tmp_path / "cache" / "wasm2py").glob("*.py"))) == 1


def test_run_reports_bad_programs_in_one_line(tmp_path):
    (tmp_path / "bad.wasm").write_bytes(b"\0asm\x01\0\0\0\x05")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "wasm2py", "run", "bad.wasm"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert_one_line_error(result, "bad.wasm")
