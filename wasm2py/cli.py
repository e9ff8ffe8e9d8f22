"""Command line: `wasm2py INPUT.wasm -o OUTPUT.py`, and `wasm2py run PROG.wasm -- ARGS`.

Errors print one line to stderr and exit 1; the output file is written whole or not at all.
`run` translates into a cache keyed by the module's hash, then runs the WASI command.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from . import __version__
from .errors import WasmError
from .pipeline import SUPPORTED_FEATURES, translate


class CliError(Exception):
    """A problem with the command line's files, reported as one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasm2py", description="Translate a WebAssembly module into a Python module."
    )
    parser.add_argument("input", help="the .wasm file to translate")
    parser.add_argument(
        "-o", "--output", help="the .py file to write (default: INPUT with .py; '-' for stdout)"
    )
    parser.add_argument("--name", help="the module's name in messages (default: INPUT's stem)")
    parser.add_argument(
        "--features",
        help="comma-separated proposals to allow (default: all supported: "
        + ",".join(sorted(SUPPORTED_FEATURES))
        + ")",
    )
    parser.add_argument(
        "--format", action="store_true", help="format the output with black (slow; needs black)"
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback for internal errors")
    return parser


class ProgressBar:
    """A bar on stderr (a terminal only) once translation has taken more than two seconds."""

    DELAY = 2.0
    WIDTH = 30

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.shown = False
        self.enabled = self.stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < self.DELAY:
            return
        filled = self.WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\rtranslating {self.label} [{bar}] {done}/{total} functions")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so no partial file is ever left."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # mkstemp creates the file private (0600); give it the permissions `open` would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except OSError as e:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise CliError(f"cannot write {path}: {e.strerror or e}") from None


def run(args: argparse.Namespace) -> None:
    source_path = Path(args.input)
    try:
        data = source_path.read_bytes()
    except OSError as e:
        raise CliError(f"cannot read {source_path}: {e.strerror or e}") from None
    features = None
    if args.features is not None:
        features = {f.strip() for f in args.features.split(",") if f.strip()}
        unknown = features - SUPPORTED_FEATURES
        if unknown:
            raise CliError(f"unsupported feature(s): {', '.join(sorted(unknown))}")
    name = args.name or source_path.stem
    progress = ProgressBar(source_path.name)
    try:
        source = translate(
            data, name=name, features=features, format_with_black=args.format, progress=progress
        )
    except WasmError as e:
        raise CliError(f"{source_path}: {e}") from None
    except ImportError:
        raise CliError("--format needs black: pip install black") from None
    finally:
        progress.close()
    if args.output == "-":
        sys.stdout.write(source)
        return
    output = Path(args.output) if args.output else source_path.with_suffix(".py")
    write_atomically(output, source)


def build_run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasm2py run",
        description="Translate a WASI command (cached by its hash) and run it; "
        "arguments after `--` go to the program.",
    )
    parser.add_argument("program", help="the .wasm file to run")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the program's arguments")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wasm2py"


def cached_translation(program: Path) -> Path:
    """The translated module of `program` in the cache, translating it first if needed."""
    try:
        data = program.read_bytes()
    except OSError as e:
        raise CliError(f"cannot read {program}: {e.strerror or e}") from None
    key = hashlib.sha256(data + f"wasm2py {__version__}".encode()).hexdigest()[:32]
    path = cache_dir() / f"m{key}.py"
    if not path.exists():
        try:
            source = translate(data, name=program.stem, progress=ProgressBar(program.name))
        except WasmError as e:
            raise CliError(f"{program}: {e}") from None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CliError(f"cannot write {path.parent}: {e.strerror or e}") from None
        write_atomically(path, source)
    return path


def run_program(args: argparse.Namespace) -> int:
    from wasm2py_runtime.wasi import run_command

    program = Path(args.program)
    path = cached_translation(program)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    arguments = args.arguments[1:] if args.arguments[:1] == ["--"] else args.arguments
    return run_command(module.instantiate, [program.name, *arguments])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        args = build_run_parser().parse_args(argv[1:])
        try:
            return run_program(args)
        except CliError as e:
            print(f"wasm2py: error: {e}", file=sys.stderr)
            return 1
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except CliError as e:
        print(f"wasm2py: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # an internal error: still one line, unless debugging
        if args.debug:
            raise
        print(
            f"wasm2py: internal error: {type(e).__name__}: {e} (rerun with --debug)",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
