"""Clocks, and poll_oneoff: waiting for clock deadlines and for descriptors to be ready.

Regular files are always ready. Standard streams without a host fd (io.BytesIO) are ready at
once; the process's own, pipes and devices are waited on with `select`. A clock subscription
fires when its deadline passes and nothing else was ready first.
"""

from __future__ import annotations

import os
import select
import struct
import time

from . import flags
from .errno import EBADF, EINVAL, ESUCCESS
from .errors import WasiError
from .fs import Directory, FdTable, File
from .guest import GuestMemory

# clockid -> (reading in ns, name for time.get_clock_info)
CLOCKS = {
    flags.CLOCK_REALTIME: (time.time_ns, "time"),
    flags.CLOCK_MONOTONIC: (time.monotonic_ns, "monotonic"),
    flags.CLOCK_PROCESS_CPUTIME: (time.process_time_ns, "process_time"),
    flags.CLOCK_THREAD_CPUTIME: (
        getattr(time, "thread_time_ns", time.process_time_ns),
        "thread_time",
    ),
}

_SUBSCRIPTION = struct.Struct("<QB7xIxxxxQQH6x")  # userdata, tag, then a clock or an fd
_EVENT = struct.Struct("<QHBxxxxxQH6x")  # userdata, error, type, nbytes, flags


def poll(fds: FdTable, mem: GuestMemory, in_ptr: int, out_ptr: int, count: int) -> int:
    """Wait as poll_oneoff says, write the events at `out_ptr`, return how many there are."""
    if count == 0:
        raise WasiError(EINVAL)
    raw = mem.read(in_ptr, _SUBSCRIPTION.size * count)
    events = []
    clocks = []  # (seconds from now, userdata)
    waiting: dict = {}  # host fd -> [(userdata, type)]
    for i in range(count):
        userdata, tag, clock_or_fd, timeout, _precision, subflags = _SUBSCRIPTION.unpack_from(
            raw, i * _SUBSCRIPTION.size
        )
        if tag == flags.EVENT_CLOCK:
            clock = CLOCKS.get(clock_or_fd)
            if clock is None:
                events.append((userdata, EINVAL, tag, 0))
                continue
            if subflags & flags.SUBCLOCK_ABSTIME:
                timeout -= clock[0]()
            clocks.append((max(timeout, 0) / 1e9, userdata))
        elif tag in (flags.EVENT_FD_READ, flags.EVENT_FD_WRITE):
            entry = fds.get(clock_or_fd)  # an unknown fd fails the whole call, as in wasmtime
            ready = _readiness(entry, tag)
            if ready is None:
                waiting.setdefault(_host_fd(entry), []).append((userdata, tag))
            else:
                events.append((userdata, ready[0], tag, ready[1]))
        else:
            raise WasiError(EINVAL)
    if not events:
        events = _wait(waiting, clocks)
    for i, (userdata, error, tag, nbytes) in enumerate(events):
        mem.pack(_EVENT, out_ptr + _EVENT.size * i, userdata, error, tag, nbytes, 0)
    return len(events)


def _readiness(entry, tag: int):
    """(errno, nbytes) if the subscription is decided now; None to wait on its host fd."""
    if isinstance(entry, Directory):
        return (EBADF, 0)
    if isinstance(entry, File):
        if entry.filetype != flags.FILETYPE_REGULAR_FILE:
            return None
        if tag == flags.EVENT_FD_WRITE:
            return (ESUCCESS, 0)
        size = os.fstat(entry.host_fd).st_size
        return (ESUCCESS, max(size - os.lseek(entry.host_fd, 0, os.SEEK_CUR), 0))
    if (tag == flags.EVENT_FD_READ) != (entry.number == 0):
        return (EBADF, 0)
    if tag == flags.EVENT_FD_WRITE or entry.fileno() is None:
        return (ESUCCESS, 0)
    return None


def _host_fd(entry) -> int:
    return entry.host_fd if isinstance(entry, File) else entry.fileno()


def _wait(waiting: dict, clocks: list) -> list:
    """Block until a host fd in `waiting` is ready, else until the earliest clock fires."""
    deadline = min((delay for delay, _ in clocks), default=None)
    wanted = {flags.EVENT_FD_READ: [], flags.EVENT_FD_WRITE: []}
    for fd, subscriptions in waiting.items():
        for tag in {tag for _, tag in subscriptions}:
            wanted[tag].append(fd)
    if waiting:
        readable, writable, _ = select.select(
            wanted[flags.EVENT_FD_READ], wanted[flags.EVENT_FD_WRITE], [], deadline
        )
    else:
        time.sleep(deadline or 0)
        readable = writable = []
    events = []
    for tag, ready in ((flags.EVENT_FD_READ, readable), (flags.EVENT_FD_WRITE, writable)):
        for fd in ready:
            events.extend((userdata, ESUCCESS, t, 0) for userdata, t in waiting[fd] if t == tag)
    if not events and deadline is not None:
        events = [(u, ESUCCESS, flags.EVENT_CLOCK, 0) for d, u in clocks if d <= deadline]
    return events
