"""A cursor over the bytes of a module: LEB128 integers, float bits, names and vectors.

Every read either returns a value or raises DecodeError with the byte offset; running past
the end of the input, a section or a function body is reported, never an IndexError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..errors import DecodeError

T = TypeVar("T")

VALTYPES = {
    0x7F: "i32",
    0x7E: "i64",
    0x7D: "f32",
    0x7C: "f64",
    0x7B: "v128",
    0x70: "funcref",
    0x6F: "externref",
}
REFTYPES = {0x70: "funcref", 0x6F: "externref"}


class Reader:
    """Reads `data[pos:end]`; `end` is the end of the input, or of a section or function body."""

    __slots__ = ("data", "pos", "end", "is_whole")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.is_whole = end is None  # reading the whole input, not a section or function

    @property
    def offset(self) -> int:
        return self.pos

    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def error(self, reason: str, offset: int | None = None) -> DecodeError:
        """A DecodeError at `offset` (by default the current position), to be raised."""
        return DecodeError(reason, self.pos if offset is None else offset)

    def eof(self) -> DecodeError:
        # The spec interpreter tells the end of the whole input from the end of a section.
        if self.is_whole:
            return self.error("unexpected end")
        return self.error("unexpected end of section or function")

    def sub(self, size: int) -> Reader:
        """A reader over the next `size` bytes, which this reader skips."""
        if size > self.remaining():
            raise self.eof()
        start = self.pos
        self.pos += size
        return Reader(self.data, start, start + size)

    # -- bytes -----------------------------------------------------------------------------

    def u8(self) -> int:
        if self.pos >= self.end:
            raise self.eof()
        byte = self.data[self.pos]
        self.pos += 1
        return byte

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < self.end else None

    def bytes(self, n: int) -> bytes:
        if n > self.remaining():
            raise self.eof()
        start = self.pos
        self.pos += n
        return self.data[start : self.pos]

    def expect_zero(self) -> int:
        """The reserved byte of memory instructions: exactly 0x00, not a long LEB128 zero."""
        if self.u8() != 0:
            raise self.error("zero byte expected", self.pos - 1)
        return 0

    # -- LEB128 ----------------------------------------------------------------------------

    def uleb(self, bits: int) -> int:
        """An unsigned LEB128 of at most `bits` bits, in at most ceil(bits / 7) bytes."""
        pos = self.pos
        if pos < self.end:
            byte = self.data[pos]
            if byte < 0x80 and (bits >= 7 or byte < 1 << bits):
                self.pos = pos + 1
                return byte  # the common one-byte case
        result, shift, left = 0, 0, bits
        while True:
            if left <= 0:
                raise self.error("integer representation too long")
            byte = self.u8()
            # The last permitted byte may only use the bits that are left.
            if left < 7 and byte & 0x7F >= 1 << left:
                raise self.error("integer too large", self.pos - 1)
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            left -= 7

    def sleb(self, bits: int) -> int:
        """A signed LEB128 of at most `bits` bits, in at most ceil(bits / 7) bytes."""
        result, shift, left = 0, 0, bits
        while True:
            if left <= 0:
                raise self.error("integer representation too long")
            byte = self.u8()
            if left < 7:
                # The unused bits of the last byte must all copy the sign bit.
                mask = (-1 << (left - 1)) & 0x7F
                if byte & mask not in (0, mask):
                    raise self.error("integer too large", self.pos - 1)
            result |= (byte & 0x7F) << shift
            shift += 7
            left -= 7
            if byte < 0x80:
                if byte & 0x40:
                    result -= 1 << shift
                return result

    def u32(self) -> int:
        return self.uleb(32)

    def s32(self) -> int:
        return self.sleb(32)

    def s33(self) -> int:
        return self.sleb(33)

    def s64(self) -> int:
        return self.sleb(64)

    # -- floats, names, types, vectors ------------------------------------------------------

    def f32_bits(self) -> int:
        return int.from_bytes(self.bytes(4), "little")

    def f64_bits(self) -> int:
        return int.from_bytes(self.bytes(8), "little")

    def name(self) -> str:
        length = self.u32()
        start = self.pos
        raw = self.bytes(length)
        try:
            return raw.decode("utf-8")  # strict: rejects overlongs, surrogates, truncation
        except UnicodeDecodeError as e:
            raise self.error("malformed UTF-8 encoding", start + e.start) from None

    def valtype(self) -> str:
        byte = self.u8()
        try:
            return VALTYPES[byte]
        except KeyError:
            raise self.error("malformed value type", self.pos - 1) from None

    def reftype(self) -> str:
        byte = self.u8()
        try:
            return REFTYPES[byte]
        except KeyError:
            raise self.error("malformed reference type", self.pos - 1) from None

    def vec(self, read_item: Callable[[Reader], T]) -> list[T]:
        """A u32 count, then that many items; every item takes at least one byte."""
        count = self.u32()
        # Refuse a count the remaining bytes cannot hold before building anything.
        if count > self.remaining():
            raise self.eof()
        return [read_item(self) for _ in range(count)]
