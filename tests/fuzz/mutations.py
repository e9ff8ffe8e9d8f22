"""Mutations of module bytes: byte edits, LEB128 edge values in size and count fields, and
whole sections spliced in, dropped, repeated or swapped; random sections."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from .common import HEADER, assemble, read_uleb, split_sections, uleb

# LEB128 values and encodings for length and count fields: small, boundary, 2 GB and 4 GB, too
# large for a u32, overlong, too long, and unterminated.
EDGE_LEBS = (
    uleb(0),
    uleb(1),
    uleb(0x7F),
    uleb(0x80),
    uleb(0x3FFF),
    uleb(0x4000),
    uleb(0xFFFF),
    uleb(2**31 - 1),
    uleb(2**31),
    uleb(2**32 - 1),
    b"\xff\xff\xff\xff\x1f",  # 2**33 - 1: too large
    b"\x80\x80\x80\x80\x00",  # overlong zero
    b"\x81\x80\x80\x80\x80\x00",  # too long
    b"\xff\xff\xff\xff",  # unterminated
    b"\xff\xff\xff\xff\x7f",
)

Mutation = tuple[str, int, int]  # (kind, a, b): a and b pick positions, values, donors


def _leb_at(data: bytearray, pos: int) -> int:
    """The length of the LEB128 at `pos`, 1 if there is none."""
    found = read_uleb(bytes(data[pos : pos + 5]), 0)
    return found[1] if found else 1


def _flip(data: bytearray, a: int, b: int, donors) -> bytearray:
    data[a % len(data)] ^= 1 << (b % 8)
    return data


def _set_byte(data: bytearray, a: int, b: int, donors) -> bytearray:
    data[a % len(data)] = b & 0xFF
    return data


def _insert(data: bytearray, a: int, b: int, donors) -> bytearray:
    pos = a % (len(data) + 1)
    data[pos:pos] = b.to_bytes(4, "little")[: 1 + (b >> 30)]
    return data


def _delete(data: bytearray, a: int, b: int, donors) -> bytearray:
    pos = a % len(data)
    del data[pos : pos + 1 + b % 16]
    return data


def _truncate(data: bytearray, a: int, b: int, donors) -> bytearray:
    return data[: a % len(data)]


def _leb(data: bytearray, a: int, b: int, donors) -> bytearray:
    pos = a % len(data)
    data[pos : pos + _leb_at(data, pos)] = EDGE_LEBS[b % len(EDGE_LEBS)]
    return data


def _sectioned(edit: Callable[[list[tuple[int, bytes]], int, int, list[bytes]], bytes | None]):
    """A mutation of the section list; the bytes stay as they are if the framing is broken."""

    def mutate(data: bytearray, a: int, b: int, donors) -> bytearray:
        sections = split_sections(bytes(data))
        if sections is None:
            return data
        result = edit(sections, a, b, donors)
        return data if result is None else bytearray(result)

    return mutate


def _section_size(sections, a, b, donors) -> bytes | None:
    """A section whose size field claims an edge value."""
    if not sections:
        return None
    k = a % len(sections)
    out = bytearray(assemble(sections[:k]))
    section_id, payload = sections[k]
    out += bytes([section_id]) + EDGE_LEBS[b % len(EDGE_LEBS)] + payload
    return bytes(out + assemble(sections[k + 1 :])[8:])


def _count(sections, a, b, donors) -> bytes | None:
    """The first LEB128 in a section (its vector count, mostly) becomes an edge value."""
    if not sections:
        return None
    k = a % len(sections)
    section_id, payload = sections[k]
    if section_id == 0:  # skip a custom section's name
        found = read_uleb(payload, 0)
        start = found[1] + found[0] if found else 0
    else:
        start = 0
    payload = bytearray(payload)
    payload[start : start + _leb_at(payload, start)] = EDGE_LEBS[(b >> 1) % len(EDGE_LEBS)]
    if b & 1:  # keep the old size: the section is now also the wrong length
        old = assemble([sections[k]])
        fixed = bytes([section_id]) + old[9 : 9 + _leb_at(bytearray(old), 9)] + bytes(payload)
        return assemble(sections[:k]) + fixed + assemble(sections[k + 1 :])[8:]
    return assemble([*sections[:k], (section_id, bytes(payload)), *sections[k + 1 :]])


def _body_size(sections, a, b, donors) -> bytes | None:
    """One function body in the code section claims an edge-value size."""
    for k, (section_id, payload) in enumerate(sections):
        if section_id != 10:
            continue
        count = read_uleb(payload, 0)
        if count is None or count[0] == 0:
            return None
        pos, target = count[1], a % count[0]
        for _ in range(target):
            size = read_uleb(payload, pos)
            if size is None:
                return None
            pos = size[1] + size[0]
        payload = bytearray(payload)
        payload[pos : pos + _leb_at(payload, pos)] = EDGE_LEBS[b % len(EDGE_LEBS)]
        return assemble([*sections[:k], (10, bytes(payload)), *sections[k + 1 :]])
    return None


def _splice(sections, a, b, donors) -> bytes | None:
    """A section of another module inserted at some position."""
    donor = split_sections(donors[b % len(donors)]) if donors else None
    if not donor:
        return None
    piece = donor[(b >> 8) % len(donor)]
    k = a % (len(sections) + 1)
    return assemble([*sections[:k], piece, *sections[k:]])


def _replace_section(sections, a, b, donors) -> bytes | None:
    """A section replaced by another module's section with the same id, if it has one."""
    if not sections or not donors:
        return None
    k = a % len(sections)
    donor = split_sections(donors[b % len(donors)]) or []
    same = [s for s in donor if s[0] == sections[k][0]]
    if not same:
        return None
    return assemble([*sections[:k], same[(b >> 8) % len(same)], *sections[k + 1 :]])


def _drop_section(sections, a, b, donors) -> bytes | None:
    if not sections:
        return None
    k = a % len(sections)
    return assemble(sections[:k] + sections[k + 1 :])


def _duplicate_section(sections, a, b, donors) -> bytes | None:
    if not sections:
        return None
    k = a % len(sections)
    return assemble([*sections[: k + 1], sections[k], *sections[k + 1 :]])


def _swap_sections(sections, a, b, donors) -> bytes | None:
    if len(sections) < 2:
        return None
    i, j = a % len(sections), b % len(sections)
    sections = list(sections)
    sections[i], sections[j] = sections[j], sections[i]
    return assemble(sections)


MUTATIONS: dict[str, Callable[[bytearray, int, int, list[bytes]], bytearray]] = {
    "flip": _flip,
    "byte": _set_byte,
    "insert": _insert,
    "delete": _delete,
    "truncate": _truncate,
    "leb": _leb,
    "section-size": _sectioned(_section_size),
    "count": _sectioned(_count),
    "body-size": _sectioned(_body_size),
    "splice": _sectioned(_splice),
    "replace-section": _sectioned(_replace_section),
    "drop-section": _sectioned(_drop_section),
    "duplicate-section": _sectioned(_duplicate_section),
    "swap-sections": _sectioned(_swap_sections),
}


def mutate(data: bytes, mutations: Sequence[Mutation], donors: list[bytes] = ()) -> bytes:
    out = bytearray(data)
    for kind, a, b in mutations:
        if not out:
            break
        out = MUTATIONS[kind](out, a, b, list(donors))
    return bytes(out)


def random_mutations(rng: random.Random) -> list[Mutation]:
    kinds = list(MUTATIONS)
    return [
        (rng.choice(kinds), rng.getrandbits(32), rng.getrandbits(32))
        for _ in range(rng.choice((1, 1, 1, 2, 3, 5)))
    ]


def random_sections(rng: random.Random) -> bytes:
    """A valid header and a few sections with random ids, payloads and (mostly right) sizes."""
    out = bytearray(HEADER)
    for _ in range(rng.randint(1, 6)):
        section_id = rng.choice((*range(13), rng.randrange(256)))
        payload = rng.randbytes(rng.choice((0, 1, 2, 5, 20, 100)))
        size = uleb(len(payload)) if rng.random() < 0.9 else rng.choice(EDGE_LEBS)
        out += bytes([section_id]) + size + payload
    return bytes(out)
