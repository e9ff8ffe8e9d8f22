"""Linear memory: a buffer that grows in place, so generated code may keep a reference to it.

The buffer is a bytearray. A memory that starts at LAZY_BYTES or more is an anonymous mmap
instead (where the OS can resize one in place), which the OS fills with zero pages only when
touched: a module may declare 4 GiB and use a few pages. Both index, slice, take `struct`
accesses and raise on out-of-bounds addresses the same way.

Generated code reads aligned 16/32/64-bit values through typed views of the buffer (`views`):
indexing a memoryview costs about half a `struct` call. A buffer with live views cannot be
resized, so `grow` releases them, resizes, makes new ones and hands them to every `watch`er.
"""

from __future__ import annotations

import mmap
import struct
import sys
from array import array
from collections.abc import Callable

from .traps import OUT_OF_BOUNDS_MEMORY, Trap

PAGE_SIZE = 65536
MAX_PAGES = 65536
LAZY_BYTES = 256 * 1024 * 1024
_CAN_MAP_LAZILY = sys.platform.startswith("linux") and hasattr(mmap, "MAP_ANONYMOUS")
# The formats of `Memory.views`, in order; generated code unpacks the tuple in this order.
VIEW_FORMATS = ("H", "h", "I", "i", "Q", "d")
_C_TYPES = {
    "H": "uint16_t[]",
    "h": "int16_t[]",
    "I": "uint32_t[]",
    "i": "int32_t[]",
    "Q": "uint64_t[]",
    "d": "double[]",
}


def _pypy_ffi():
    """PyPy's cffi (part of PyPy itself), if it can release the buffers it is given."""
    if sys.implementation.name != "pypy":
        return None
    try:
        import cffi
    except ImportError:
        return None
    ffi = cffi.FFI()
    return ffi if hasattr(ffi, "release") else None


# What typed views are made of: memoryview casts on CPython (indexing one costs half a struct
# call); cffi arrays over the buffer on PyPy, whose JIT runs them faster than struct and
# memoryviews 100x slower; struct calls elsewhere, and on big-endian hosts, whose native order
# is not Wasm's.
_LITTLE_ENDIAN = sys.byteorder == "little"
_MEMORYVIEWS = _LITTLE_ENDIAN and sys.implementation.name == "cpython"
_FFI = _pypy_ffi() if _LITTLE_ENDIAN else None
# Whether typed views take extended slices (`view[start:stop:step]`) and `len`: generated
# code walks a loop's loads as slices only then.
STRIDED_VIEWS = _MEMORYVIEWS


def _new_buffer(size: int):
    if size >= LAZY_BYTES and _CAN_MAP_LAZILY:
        try:
            return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        except (OSError, ValueError):
            pass
    return bytearray(size)


def _struct_view(data, fmt: str):
    """A typed view made of struct calls.

    A class per view, its state in the closure: PyPy's JIT then treats the calls as constants
    (measured 3x faster there than instance attributes).
    """
    packer = struct.Struct("<" + fmt)
    unpack, pack = packer.unpack_from, packer.pack_into
    shift = packer.size.bit_length() - 1

    class StructView:
        __slots__ = ()

        def __getitem__(self, index: int):
            return unpack(data, index << shift)[0]

        def __setitem__(self, index: int, value) -> None:
            pack(data, index << shift, value)

    return StructView()


def _typed_views(data) -> tuple[tuple, Callable[[], None]]:
    """Views of `data` in VIEW_FORMATS order, and how to release them before it resizes.

    Each raises IndexError for an element past the end (or a negative index, cffi and struct;
    generated code never makes one), as an out-of-bounds access must.
    """
    if _MEMORYVIEWS:
        raw = memoryview(data)
        views = tuple(raw.cast(fmt) for fmt in VIEW_FORMATS)

        def release() -> None:
            for view in views:
                view.release()
            raw.release()

        return views, release
    if _FFI is not None:
        views = tuple(_FFI.from_buffer(_C_TYPES[fmt], data) for fmt in VIEW_FORMATS)

        def release() -> None:
            for view in views:
                _FFI.release(view)

        return views, release
    return tuple(_struct_view(data, fmt) for fmt in VIEW_FORMATS), _hold_nothing


def strided_values(view, value, count: int):
    """`count` copies of `value` in the format of `view`, a typed view: what a strided slice
    of it takes in one assignment (generated code fills `view[a:b:step]` with it)."""
    return array(view.format, (value,)) * count


def _hold_nothing() -> None:
    """Struct views hold no buffer export: nothing to release."""


class Count(int):
    """A count that reads both as an int (`mem.size`) and as a call (`mem.size()`)."""

    def __call__(self) -> int:
        return int(self)


class Memory:
    """A Wasm linear memory of `minimum` pages, growable up to `maximum` pages."""

    def __init__(self, minimum: int, maximum: int | None = None):
        if minimum > MAX_PAGES or (maximum is not None and maximum < minimum):
            raise ValueError("invalid memory limits")
        self.minimum = minimum
        self.maximum = maximum
        self.pages = minimum
        self.data = _new_buffer(minimum * PAGE_SIZE)
        self._views, self._release_views = _typed_views(self.data)
        self._watchers: list[Callable[[], None]] = []

    @property
    def views(self) -> tuple:
        """Typed views of the buffer, one per VIEW_FORMATS entry; replaced on every grow."""
        return self._views

    def watch(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every grow, when `views` are new ones."""
        self._watchers.append(callback)

    @property
    def size(self) -> Count:
        """The current size in pages."""
        return Count(self.pages)

    @property
    def buffer(self):
        return self.data

    def __len__(self) -> int:
        return len(self.data)

    def grow(self, delta: int) -> int:
        """Add `delta` pages; return the old size in pages, or -1 if the memory cannot grow."""
        old = self.pages
        new = old + delta
        limit = MAX_PAGES if self.maximum is None else self.maximum
        if delta < 0 or new > limit:
            return -1
        if delta:
            self._release_views()
            try:
                if isinstance(self.data, mmap.mmap):
                    self.data.resize(new * PAGE_SIZE)
                else:
                    self.data.extend(bytes(delta * PAGE_SIZE))
            except (MemoryError, OSError, ValueError, BufferError):
                # BufferError: the host holds a view of the buffer; growing may fail anyway.
                return -1
            else:
                self.pages = new
            finally:
                self._views, self._release_views = _typed_views(self.data)
                for callback in self._watchers:
                    callback()
        return old

    def grow_raw(self, delta: int) -> int:
        """memory.grow as generated code sees it: failure is 0xFFFFFFFF."""
        return self.grow(delta) & 0xFFFFFFFF

    def read(self, addr: int, n: int) -> bytes:
        """`n` bytes from `addr`; raises Trap if any is out of bounds."""
        if addr < 0 or n < 0 or addr + n > len(self.data):
            raise Trap(OUT_OF_BOUNDS_MEMORY)
        return bytes(self.data[addr : addr + n])

    def write(self, addr: int, data: bytes) -> None:
        """Copy `data` to `addr`; raises Trap (writing nothing) if any byte is out of bounds."""
        if addr < 0 or addr + len(data) > len(self.data):
            raise Trap(OUT_OF_BOUNDS_MEMORY)
        self.data[addr : addr + len(data)] = data

    def matches(self, minimum: int, maximum: int | None) -> bool:
        """Whether this memory can be imported where `minimum`/`maximum` are required."""
        if self.pages < minimum:
            return False
        if maximum is None:
            return True
        return self.maximum is not None and self.maximum <= maximum

    def __repr__(self) -> str:
        return f"<Memory {self.pages} pages, max {self.maximum}>"


# Bulk memory operations: every bound is checked before the first byte is written.


def memory_init(memory: Memory, segment: bytes, dst: int, src: int, n: int) -> None:
    if src + n > len(segment) or dst + n > len(memory.data):
        raise Trap(OUT_OF_BOUNDS_MEMORY)
    memory.data[dst : dst + n] = segment[src : src + n]


def memory_copy(dst_memory: Memory, src_memory: Memory, dst: int, src: int, n: int) -> None:
    if src + n > len(src_memory.data) or dst + n > len(dst_memory.data):
        raise Trap(OUT_OF_BOUNDS_MEMORY)
    dst_memory.data[dst : dst + n] = src_memory.data[src : src + n]


def memory_fill(memory: Memory, dst: int, value: int, n: int) -> None:
    if dst + n > len(memory.data):
        raise Trap(OUT_OF_BOUNDS_MEMORY)
    memory.data[dst : dst + n] = bytes((value & 0xFF,)) * n
