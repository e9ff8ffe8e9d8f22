"""Shared by the fuzzers: paths, a time limit, and just enough Wasm binary writing and reading."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FAILURES_DIR = REPO_ROOT / "out" / "fuzz"
SPEC_CACHE = REPO_ROOT / "out" / "spec"


class Timeout(BaseException):
    """An input took longer than its time limit (a BaseException, so no handler swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Timeout in the main thread after `seconds`; a no-op where SIGALRM is missing."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise Timeout(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- binary helpers ---------------------------------------------------------------------------

HEADER = b"\0asm\x01\0\0\0"


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_uleb(data: bytes, pos: int) -> tuple[int, int] | None:
    """(value, end) of the unsigned LEB128 at `pos` (at most 5 bytes), or None."""
    value = 0
    for i in range(5):
        if pos + i >= len(data):
            return None
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            return value, pos + i + 1
    return None


def name_bytes(text: str | bytes) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return uleb(len(raw)) + raw


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def assemble(sections: Sequence[tuple[int, bytes]]) -> bytes:
    return HEADER + b"".join(section(i, p) for i, p in sections)


def split_sections(data: bytes) -> list[tuple[int, bytes]] | None:
    """The (id, payload) of each section, or None if the section framing is broken."""
    if data[:8] != HEADER:
        return None
    sections, pos = [], 8
    while pos < len(data):
        size = read_uleb(data, pos + 1)
        if size is None or size[1] + size[0] > len(data):
            return None
        sections.append((data[pos], data[size[1] : size[1] + size[0]]))
        pos = size[1] + size[0]
    return sections
