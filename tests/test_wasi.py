"""WASI preview 1: C programs (tests/wasi/*.c, built by tests/wasi/build.sh) run translated
and under wasmtime with the same arguments, environment, stdin and a fresh preopened directory;
stdout, stderr, exit status and the files left behind must match byte for byte."""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
import wasmtime
from wasm2py_runtime import WASI, Trap, WASIExit

import wasm2py
from tests.test_python_versions import interpreters
from tests.util import load_module

PROGRAMS = Path(__file__).parent / "wasi"
GUEST_DIR = "/sandbox"
ENV = {"HOME": "/home/guest", "GREETING": "hi there", "EMPTY": "", "UNICODE": "grüße"}
STDIN = "line one\nline twö\n\n  spaced  \nno newline at end".encode()


@dataclass
class Outcome:
    status: int | str  # the exit code, or "trap"
    stdout: bytes
    stderr: bytes
    files: dict  # what the run left in the sandbox's parent directory


@functools.cache
def wasm(program: str) -> bytes:
    return (PROGRAMS / f"{program}.wasm").read_bytes()


@functools.cache
def translated(program: str) -> types.ModuleType:
    return load_module(wasm(program), Path(program).name)


def snapshot(base: Path) -> dict:
    """Every path under `base` (symlinks not followed) → its contents, target or "<dir>"."""
    found = {}
    for parent, dirs, files in os.walk(base):
        for name in dirs + files:
            path = Path(parent, name)
            key = str(path.relative_to(base))
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path).replace(str(base), "<base>")
            elif path.is_dir():
                found[key] = "<dir>"
            else:
                found[key] = path.read_bytes()
    return found


def run_wasmtime(program: str, args: list, stdin: bytes, base: Path) -> Outcome:
    with tempfile.TemporaryDirectory() as io_dir:
        stdin_path, stdout_path, stderr_path = (os.path.join(io_dir, n) for n in "ioe")
        Path(stdin_path).write_bytes(stdin)
        engine = wasmtime.Engine()
        store = wasmtime.Store(engine)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        config = wasmtime.WasiConfig()
        config.argv = [program, *args]
        config.env = list(ENV.items())
        config.preopen_dir(str(base / "sandbox"), GUEST_DIR)
        config.stdin_file = stdin_path
        config.stdout_file = stdout_path
        config.stderr_file = stderr_path
        store.set_wasi(config)
        instance = linker.instantiate(store, wasmtime.Module(engine, wasm(program)))
        try:
            instance.exports(store)["_start"](store)
            status = 0
        except wasmtime.ExitTrap as e:
            status = e.code
        except wasmtime.Trap:
            status = "trap"
        del store, instance, linker
        out, err = Path(stdout_path).read_bytes(), Path(stderr_path).read_bytes()
    return Outcome(status, out, err, snapshot(base))


def run_translated(program: str, args: list, stdin: bytes, base: Path) -> Outcome:
    stdout, stderr = io.BytesIO(), io.BytesIO()
    with WASI(
        args=[program, *args],
        env=ENV,
        preopens={GUEST_DIR: str(base / "sandbox")},
        stdin=io.BytesIO(stdin),
        stdout=stdout,
        stderr=stderr,
    ) as wasi:
        try:
            translated(program).instantiate(wasi=wasi).exports["_start"]()
            status = 0
        except WASIExit as e:
            status = e.code
        except Trap:
            status = "trap"
    return Outcome(status, stdout.getvalue(), stderr.getvalue(), snapshot(base))


def make_escape_fixture(base: Path) -> None:
    """A sandbox with a file and links, and a secret next to it that must stay unreachable."""
    sandbox = base / "sandbox"
    (base / "outside.txt").write_text("SECRET")
    (sandbox / "inside.txt").write_text("inside")
    (sandbox / "sub").mkdir()
    os.symlink("../outside.txt", sandbox / "out_rel")
    os.symlink(str(base / "outside.txt"), sandbox / "out_abs")
    os.symlink("../..", sandbox / "sub" / "up")
    os.symlink("inside.txt", sandbox / "ok")
    os.symlink("loop2", sandbox / "loop1")
    os.symlink("loop1", sandbox / "loop2")
    os.symlink("sub/../ok", sandbox / "chain")
    os.symlink("sub", sandbox / "subl")


def both(program: str, args=(), stdin: bytes = STDIN, setup=None) -> tuple:
    outcomes = []
    for run in (run_wasmtime, run_translated):
        with tempfile.TemporaryDirectory() as base:
            (Path(base) / "sandbox").mkdir()
            if setup is not None:
                setup(Path(base))
            outcomes.append(run(program, list(args), stdin, Path(base)))
    return tuple(outcomes)


def assert_same(program: str, args=(), stdin: bytes = STDIN, setup=None) -> Outcome:
    reference, ours = both(program, args, stdin, setup)
    assert ours.stdout == reference.stdout
    assert ours.stderr == reference.stderr
    assert ours.status == reference.status
    assert ours.files == reference.files
    return ours


# --- programs compared with wasmtime ---


@pytest.mark.parametrize("stdin", [STDIN, b"", b"\x00\xff binary\r\n" * 5000])
def test_stdio(stdin):
    ours = assert_same("stdio", stdin=stdin)
    assert b"isatty: 0 0 0" in ours.stdout and b"stderr:" in ours.stderr


def test_args_and_environment():
    ours = assert_same("args_env", ["a b", "", "ünïcödé", "--flag=1"])
    assert b'argv[3]="\xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9"' in ours.stdout
    assert b"env[3]=UNICODE=gr\xc3\xbc\xc3\x9fe" in ours.stdout


@pytest.mark.parametrize(
    "how, code, status",
    [
        ("return", 0, 0),
        ("return", 3, 3),
        ("exit", 7, 7),
        ("exit", 125, 125),
        ("_Exit", 9, 9),
        ("abort", 0, "trap"),
    ],
)
def test_exit_codes(how, code, status):
    ours = assert_same("exit_code", [how, str(code)])
    assert ours.status == status


def test_exit_codes_above_125():
    # wasmtime 50 refuses proc_exit(n) for n >= 126 (an error, not an exit); WASIExit carries n.
    ours = run_translated_alone("exit_code", ["exit", "255"])
    assert ours.status == 255 and ours.stdout == b"ending by exit 255\natexit handler ran\n"


def run_translated_alone(program: str, args: list) -> Outcome:
    with tempfile.TemporaryDirectory() as base:
        (Path(base) / "sandbox").mkdir()
        return run_translated(program, args, STDIN, Path(base))


def test_files_and_directories():
    ours = assert_same("files", [GUEST_DIR])
    assert ours.files["sandbox/log.txt"].endswith(b"appended again\n")
    assert len([k for k in ours.files if k.startswith("sandbox/many/")]) == 120


def test_clocks_random_and_polling():
    ours = assert_same("clocks")
    assert b"poll two clocks: errno 0 nevents 1 userdata 222" in ours.stdout


def test_escape_attempts_are_refused_like_wasmtime():
    ours = assert_same("escape", setup=make_escape_fixture)
    assert b"SECRET" not in ours.stdout
    assert ours.files["outside.txt"] == b"SECRET"
    assert not any(k.startswith(("newdir", "stolen", "hard")) for k in ours.files)
    assert b"raw open ../outside.txt               follow=1 -> errno 63" in ours.stdout


def test_large_program():
    """toolbox: ~690 KB of Wasm, most of wasi-libc plus generated numeric kernels."""
    assert len(wasm("large/toolbox")) >= 500_000
    ours = assert_same("large/toolbox", [GUEST_DIR])
    assert ours.stderr == b"toolbox finished\n"
    assert b"kernels: 180, combined digest" in ours.stdout
    assert set(ours.files) == {"sandbox", "sandbox/toolbox-dir", "sandbox/toolbox-dir/note.txt"}


# Where this runtime deliberately differs from wasmtime 50 (which answers ENOTSUP, 58, for the
# first two and ENOTSOCK, 57, for sockets).
ALL_CALLS_DIFFERENCES = {
    "fd_allocate": 0,  # implemented: extends the file
    "fd_fdstat_set_rights": 0,  # implemented: rights can be dropped
    "sock_accept": 52,  # sockets answer ENOSYS
    "sock_recv": 52,
    "sock_send": 52,
    "sock_shutdown": 52,
}


def test_every_preview1_function():
    reference, ours = both("all_calls")
    assert ours.status == reference.status == 5
    assert ours.files == reference.files
    expected = []
    for line in reference.stdout.decode().splitlines():
        name = line.rsplit(" ", 1)[0].strip()
        if name in ALL_CALLS_DIFFERENCES:
            line = f"{name:<24} {ALL_CALLS_DIFFERENCES[name]}"
        expected.append(line)
    assert ours.stdout.decode().splitlines() == expected


# --- calls with bad arguments, made directly from Python on both engines ---

EDGE_WAT = """(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "args_sizes_get") (param i32 i32) (result i32) (call $args_sizes_get (local.get 0) (local.get 1)))
  (func (export "random_get") (param i32 i32) (result i32) (call $random_get (local.get 0) (local.get 1)))
  (func (export "fd_write") (param i32 i32 i32 i32) (result i32)
    (call $fd_write (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "fd_read") (param i32 i32 i32 i32) (result i32)
    (call $fd_read (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "clock_time_get") (param i32 i64 i32) (result i32)
    (call $clock_time_get (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32)
    (call $fd_prestat_dir_name (local.get 0) (local.get 1) (local.get 2)))
  (func (export "path_open") (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)
    (call $path_open (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
      (local.get 5) (local.get 6) (local.get 7) (local.get 8)))
)"""

EDGE_CALLS = [
    ("args_sizes_get", (0xFFFFFFF0, 0)),
    ("args_sizes_get", (0, 65536)),
    ("random_get", (65530, 100)),
    ("random_get", (65536, 0)),
    ("fd_write", (1, 65532, 1, 0)),  # the iovec array runs off the end
    ("fd_write", (1, 0, 1, 16)),  # iovec {ptr 65000, len 1000} runs off the end
    ("fd_read", (99, 0, 1, 16)),
    ("clock_time_get", (0, 0, 65535)),
    ("fd_prestat_dir_name", (3, 0, 2)),
    ("fd_prestat_dir_name", (3, 65534, 8)),
    ("path_open", (3, 0, 100, 2, 0, 2, 0, 0, 200)),  # path is not UTF-8
    ("path_open", (3, 0, 104, 8, 1, 2, 0, 0, 65534)),  # fd result pointer out of bounds
]


def _edge_memory(write):
    write(0, (65000).to_bytes(4, "little") + (1000).to_bytes(4, "little"))
    write(100, b"\xff\xfe")
    write(104, b"made.txt")


EFAULT, EILSEQ = 21, 25


def test_bad_arguments_return_the_errno_wasmtime_returns():
    binary = wasmtime.wat2wasm(EDGE_WAT)
    with tempfile.TemporaryDirectory() as base:
        engine = wasmtime.Engine()
        store = wasmtime.Store(engine)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        config = wasmtime.WasiConfig()
        config.preopen_dir(base, GUEST_DIR)
        store.set_wasi(config)
        instance = linker.instantiate(store, wasmtime.Module(engine, binary))
        exports = instance.exports(store)
        memory = exports["memory"]
        _edge_memory(lambda addr, data: memory.write(store, data, addr))
        expected = []
        for name, args in EDGE_CALLS:
            try:
                expected.append(exports[name](store, *args))
            except wasmtime.WasmtimeError as e:
                assert "out of bounds" in str(e)
                expected.append(EFAULT)  # wasmtime traps where preview1 has EFAULT
    with tempfile.TemporaryDirectory() as base:
        with WASI(preopens={GUEST_DIR: base}, stdout=io.BytesIO()) as wasi:
            ours = load_module(binary, "edge").instantiate(wasi=wasi)
            _edge_memory(ours.exports["memory"].write)
            got = [ours.exports[name](*args) for name, args in EDGE_CALLS]
        assert os.listdir(base) == []  # path_open checks its result pointer before creating
    assert got == expected
    assert EFAULT in got and EILSEQ in got


# --- linking, reactors, scripts ---

TWICE_WAT = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write_a (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write_b (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "one\\n")
  (data (i32.const 32) "two!\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $write_a (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 32))
    (i32.store (i32.const 4) (i32.const 5))
    (drop (call $write_b (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
    (call $exit (call $twice (i32.add (i32.load (i32.const 8)) (i32.load (i32.const 12))))))
)"""


def test_module_importing_the_same_function_twice():
    module = load_module(wasmtime.wat2wasm(TWICE_WAT), "twice")
    out = io.BytesIO()
    wasi = WASI(args=["twice"], stdout=out)
    with pytest.raises(WASIExit) as exit_info:
        module.instantiate({"env": {"twice": lambda x: 2 * x}}, wasi=wasi).exports["_start"]()
    assert exit_info.value.code == 18
    assert isinstance(exit_info.value, Trap)
    assert out.getvalue() == b"one\ntwo!\n"


def test_imports_keep_what_the_caller_gives():
    def my_exit(code):
        raise RuntimeError(f"my exit {code}")

    wasi = WASI()
    given = {"env": {"twice": abs}, "wasi_snapshot_preview1": {"proc_exit": my_exit}}
    combined = wasi.imports(given)
    assert combined["env"] is given["env"] and combined is not given
    assert combined["wasi_snapshot_preview1"]["proc_exit"] is my_exit
    assert combined["wasi_snapshot_preview1"]["fd_write"].params == ("i32",) * 4
    assert set(wasi.imports(None)) == {"wasi_snapshot_preview1"}


def test_reactor_used_as_a_library():
    out = io.BytesIO()
    instance = translated("reactor").instantiate(wasi=WASI(env={"WHO": "python"}, stdout=out))
    exports = instance.exports
    assert exports["initialized"]() == 0
    exports["_initialize"]()
    assert exports["initialized"]() == 42
    memory = exports["memory"]
    text = b"Hello, reactor: 123 abc!"
    ptr = exports["alloc"](len(text))
    memory.write(ptr, text)
    assert exports["upper"](ptr, len(text)) == 14
    assert memory.read(ptr, len(text)) == text.upper()
    fnv = 2166136261
    for byte in text.upper():
        fnv = ((fnv ^ byte) * 16777619) & 0xFFFFFFFF
    assert exports["fnv1a"](ptr, len(text)) & 0xFFFFFFFF == fnv
    memory.write(ptr, b"world\0")
    result = exports["greet"](ptr)
    assert bytes(memory.data[result : memory.data.index(0, result)]) == b"<<world>>"
    exports["release"](result)
    exports["release"](ptr)
    assert exports["calls"]() == 3
    assert out.getvalue() == b"hello, world! (WHO=python)\n"


def _script(tmp_path: Path, program: str) -> Path:
    path = tmp_path / f"{program}.py"
    path.write_text(wasm2py.translate(wasm(program), name=program))
    return path


def _run_script(script: Path, *args, stdin: bytes = b"", cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GREETING="from the environment")
    return subprocess.run(
        [sys.executable, str(script), *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_translated_command_runs_as_a_script(tmp_path):
    script = _script(tmp_path, "args_env")
    done = _run_script(script, "one", "two words", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[:4] == [
        "argc=3",
        f'argv[0]="{script}" ({len(str(script))} bytes)',
        'argv[1]="one" (3 bytes)',
        'argv[2]="two words" (9 bytes)',
    ]
    assert "GREETING=from the environment" in lines


def test_script_exit_codes_stdin_and_traps(tmp_path):
    exits = _script(tmp_path, "exit_code")
    done = _run_script(exits, "exit", "42", cwd=tmp_path)
    assert done.returncode == 42
    assert done.stdout == b"ending by exit 42\natexit handler ran\n"
    assert done.stderr == b"to stderr before ending\n"
    done = _run_script(exits, "abort", "0", cwd=tmp_path)
    assert done.returncode == 134
    assert done.stdout == b"ending by abort 0\n"
    assert done.stderr.decode().splitlines()[-1] == "error: wasm trap: unreachable executed"
    done = _run_script(_script(tmp_path, "stdio"), stdin=b"abc\n", cwd=tmp_path)
    assert done.returncode == 0
    assert b"   1| ABC\n" in done.stdout


def test_script_with_a_missing_import(tmp_path):
    wat = """(module (import "env" "missing" (func $missing))
      (memory (export "memory") 1) (func (export "_start") (call $missing)))"""
    script = tmp_path / "unlinked.py"
    script.write_text(wasm2py.translate(wasmtime.wat2wasm(wat), name="unlinked"))
    done = _run_script(script, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        "error: unknown import: 'env' 'missing' is not provided"
    ]


def test_script_preopens_the_current_directory(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    done = _run_script(_script(tmp_path, "files"), ".", cwd=work)
    assert done.returncode == 0, done.stderr
    assert b"many: 122 entries" in done.stdout
    assert (work / "log.txt").read_bytes().endswith(b"appended again\n")


@pytest.mark.parametrize("python", interpreters())
def test_wasi_runs_on(python, tmp_path):
    """The WASI runtime on every supported interpreter: files, clocks and escapes as a script."""
    (tmp_path / "wasm2py_runtime").symlink_to(Path(__file__).resolve().parents[1] / "runtime")
    results = []
    for interpreter in (sys.executable, python):
        work = tmp_path / f"work-{len(results)}"
        (work / "sandbox").mkdir(parents=True)
        make_escape_fixture(work)
        outputs = []
        for program, args in (("files", ["."]), ("clocks", []), ("escape", [])):
            script = _script(tmp_path, program)
            done = subprocess.run(
                [interpreter, str(script), *args],
                input=b"stdin is a pipe here",
                capture_output=True,
                cwd=work / "sandbox",
                env=dict(os.environ, PYTHONPATH=str(tmp_path)),
                timeout=300,
            )
            outputs.append((done.returncode, done.stdout.replace(bytes(work), b"<work>")))
        results.append((outputs, snapshot(work)))
    assert results[1] == results[0]
    assert b"poll stdin readable: errno 0 nevents 1 userdata 1 type 1" in results[0][0][1][1]
