"""Loads and stores as generated code calls them: `struct` methods bound once.

Each `load_*` returns a 1-tuple (`load_u32(buf, addr)[0]`); an access past the end of the buffer
raises `struct.error`, which the call boundary turns into the spec's out-of-bounds trap.
f32 goes through helpers because `struct`'s '<f' quiets signalling NaNs on CPython <= 3.13.
"""

from __future__ import annotations

from struct import Struct

from .numeric import f32_from_bits, f32_to_bits

load_u8 = Struct("<B").unpack_from
load_s8 = Struct("<b").unpack_from
load_u16 = Struct("<H").unpack_from
load_s16 = Struct("<h").unpack_from
load_u32 = Struct("<I").unpack_from
load_s32 = Struct("<i").unpack_from
load_u64 = Struct("<Q").unpack_from
load_s64 = Struct("<q").unpack_from
load_f64 = Struct("<d").unpack_from

store_u8 = Struct("<B").pack_into
store_u16 = Struct("<H").pack_into
store_u32 = Struct("<I").pack_into
store_u64 = Struct("<Q").pack_into
store_f64 = Struct("<d").pack_into

_load_f32 = Struct("<f").unpack_from
_store_f32 = Struct("<f").pack_into


def load_f32(buf: bytearray, addr: int) -> float:
    value = _load_f32(buf, addr)[0]
    if value != value:
        return f32_from_bits(load_u32(buf, addr)[0])
    return value


def store_f32(buf: bytearray, addr: int, value: float) -> None:
    if value != value:
        store_u32(buf, addr, f32_to_bits(value))
    else:
        _store_f32(buf, addr, value)
