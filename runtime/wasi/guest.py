"""Reading and writing the program's linear memory: integers, byte ranges, strings, iovecs.

Every access is bounds-checked against the memory's current size (it may have grown since the
last call); an address out of range makes the call return EFAULT, never resize the bytearray.
"""

from __future__ import annotations

import struct

from .errno import EFAULT, EILSEQ
from .errors import WasiError

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_IOVEC = struct.Struct("<II")


class GuestMemory:
    """The exported memory of the instance a WASI context is attached to."""

    __slots__ = ("memory",)

    def __init__(self):
        self.memory = None

    @property
    def data(self) -> bytearray:
        if self.memory is None:
            raise WasiError(EFAULT)
        return self.memory.data

    def _check(self, addr: int, n: int) -> bytearray:
        data = self.data
        if addr + n > len(data):
            raise WasiError(EFAULT)
        return data

    def u32(self, addr: int) -> int:
        return _U32.unpack_from(self._check(addr, 4), addr)[0]

    def u64(self, addr: int) -> int:
        return _U64.unpack_from(self._check(addr, 8), addr)[0]

    def set_u8(self, addr: int, value: int) -> None:
        _U8.pack_into(self._check(addr, 1), addr, value)

    def set_u16(self, addr: int, value: int) -> None:
        _U16.pack_into(self._check(addr, 2), addr, value)

    def set_u32(self, addr: int, value: int) -> None:
        _U32.pack_into(self._check(addr, 4), addr, value)

    def set_u64(self, addr: int, value: int) -> None:
        _U64.pack_into(self._check(addr, 8), addr, value)

    def read(self, addr: int, n: int) -> bytes:
        return bytes(self._check(addr, n)[addr : addr + n])

    def write(self, addr: int, value: bytes) -> None:
        self._check(addr, len(value))[addr : addr + len(value)] = value

    def pack(self, layout: struct.Struct, addr: int, *values) -> None:
        layout.pack_into(self._check(addr, layout.size), addr, *values)

    def string(self, addr: int, n: int) -> bytes:
        """A path or name: UTF-8 (else EILSEQ), returned as the bytes host calls take."""
        raw = self.read(addr, n)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(EILSEQ) from None
        return raw

    def iovecs(self, addr: int, count: int) -> list:
        """The (pointer, length) pairs of an iovec or ciovec array, each range checked."""
        data = self._check(addr, 8 * count)
        vecs = [_IOVEC.unpack_from(data, addr + 8 * i) for i in range(count)]
        size = len(data)
        for ptr, length in vecs:
            if ptr + length > size:
                raise WasiError(EFAULT)
        return vecs

    def gather(self, addr: int, count: int) -> bytes:
        """The bytes a ciovec array points at, concatenated."""
        data = self.data
        return b"".join([data[p : p + n] for p, n in self.iovecs(addr, count)])

    def scatter(self, addr: int, count: int, payload: bytes) -> None:
        """Spread `payload` over the buffers of an iovec array, in order."""
        data = self.data
        pos = 0
        for ptr, length in self.iovecs(addr, count):
            chunk = payload[pos : pos + length]
            data[ptr : ptr + len(chunk)] = chunk
            pos += len(chunk)
            if pos >= len(payload):
                break

    def capacity(self, addr: int, count: int) -> int:
        """How much a read into an iovec array may return (buffers may overlap: at most the
        memory's size)."""
        return min(sum(n for _, n in self.iovecs(addr, count)), len(self.data))
