"""The sandboxed file system: descriptors, the descriptor table, and path resolution.

Every directory descriptor holds an open host directory fd. A guest path is resolved relative
to one, a component at a time, with `openat`-style calls (`dir_fd=`, `O_NOFOLLOW`): `..` never
climbs above the directory the walk started from, absolute paths are refused, and symbolic
links are expanded here, by the same rules, instead of by the host. So nothing a program names,
and no symlink planted inside a preopen, reaches a host file outside it. Needs a POSIX host.
"""

from __future__ import annotations

import errno as host_errno
import os
import stat
import sys
import weakref
from collections import deque

from . import flags
from .errno import EBADF, ELOOP, ENOENT, ENOTDIR, EPERM
from .errors import WasiError

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
OPEN_DIRECTORY = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC
MAX_SYMLINKS = 40

# What an escape attempt (`..` above the start, an absolute path or symlink target) returns,
# as in wasmtime.
ESCAPE = EPERM


def filetype(mode: int) -> int:
    """The WASI filetype of a host `st_mode`."""
    if stat.S_ISREG(mode):
        return flags.FILETYPE_REGULAR_FILE
    if stat.S_ISDIR(mode):
        return flags.FILETYPE_DIRECTORY
    if stat.S_ISLNK(mode):
        return flags.FILETYPE_SYMBOLIC_LINK
    if stat.S_ISCHR(mode):
        return flags.FILETYPE_CHARACTER_DEVICE
    if stat.S_ISBLK(mode):
        return flags.FILETYPE_BLOCK_DEVICE
    if stat.S_ISSOCK(mode):
        return flags.FILETYPE_SOCKET_STREAM
    return flags.FILETYPE_UNKNOWN


class Descriptor:
    """What a WASI fd refers to. `host_fd` is the host's descriptor, or None for a stream."""

    host_fd: int | None = None
    fdflags = 0

    def __init__(self, filetype: int, rights_base: int, rights_inheriting: int):
        self.filetype = filetype
        self.rights_base = rights_base
        self.rights_inheriting = rights_inheriting

    def close(self) -> None:
        if self.host_fd is not None:
            fd, self.host_fd = self.host_fd, None
            os.close(fd)


class Stream(Descriptor):
    """Standard input, output or error: a binary file object, or the process's own if None."""

    def __init__(self, number: int, stream):
        self.number = number
        self.given = stream
        tty = self._isatty()
        rights = flags.RIGHTS_STDIN if number == 0 else flags.RIGHTS_STDOUT
        kind = flags.FILETYPE_CHARACTER_DEVICE if tty else flags.FILETYPE_UNKNOWN
        super().__init__(kind, rights, 0)

    @property
    def stream(self):
        if self.given is not None:
            return self.given
        own = (sys.stdin, sys.stdout, sys.stderr)[self.number]
        return getattr(own, "buffer", own)

    def _isatty(self) -> bool:
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    def fileno(self) -> int | None:
        try:
            return self.stream.fileno()
        except (AttributeError, ValueError, OSError):
            return None

    def read(self, n: int) -> bytes:
        stream = self.stream
        read1 = getattr(stream, "read1", None)
        data = read1(n) if read1 is not None else stream.read(n)
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data or b""

    def write(self, data: bytes) -> int:
        stream = self.stream
        if hasattr(stream, "encoding"):  # a text stream without a binary buffer
            stream.write(data.decode("utf-8", "replace"))
        else:
            stream.write(data)
        stream.flush()
        return len(data)

    def close(self) -> None:
        """Closing a standard stream forgets it; the stream itself belongs to the embedder."""


class File(Descriptor):
    """An open host file (or device, fifo, socket) that is not a directory."""

    def __init__(self, host_fd: int, kind: int, rights_base: int, fdflags: int):
        super().__init__(kind, rights_base, 0)
        self.host_fd = host_fd
        self.fdflags = fdflags


class Directory(Descriptor):
    """An open host directory; `guest_name` is set for preopens (what fd_prestat reports)."""

    def __init__(self, host_fd: int, guest_name: bytes | None = None):
        super().__init__(
            flags.FILETYPE_DIRECTORY, flags.RIGHTS_DIRECTORY, flags.RIGHTS_DIRECTORY_INHERITING
        )
        self.host_fd = host_fd
        self.guest_name = guest_name
        self.listing: list = []

    def entries(self, cookie: int) -> list:
        """(name, inode, filetype) for `.`, `..` and every entry; listed afresh at cookie 0."""
        if cookie == 0 or not self.listing:
            self.listing = self._list()
        return self.listing

    def _list(self) -> list:
        fd = self.host_fd
        here = os.stat(fd)
        try:
            parent = os.stat("..", dir_fd=fd).st_ino
        except OSError:
            parent = here.st_ino
        listing = [(b".", here.st_ino, flags.FILETYPE_DIRECTORY)]
        listing.append((b"..", parent, flags.FILETYPE_DIRECTORY))
        with os.scandir(fd) as it:
            for entry in it:
                name = os.fsencode(entry.name)
                try:
                    kind = filetype(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
                except OSError:
                    kind = flags.FILETYPE_UNKNOWN
                listing.append((name, entry.inode(), kind))
        return listing


class FdTable:
    """The program's descriptors by number; a new one gets the lowest free number."""

    def __init__(self):
        self.entries: dict = {}
        self._finalizer = weakref.finalize(self, _close_all, self.entries)

    def get(self, fd: int) -> Descriptor:
        entry = self.entries.get(fd)
        if entry is None:
            raise WasiError(EBADF)
        return entry

    def directory(self, fd: int) -> Directory:
        entry = self.get(fd)
        if not isinstance(entry, Directory):
            raise WasiError(ENOTDIR)
        return entry

    def add(self, entry: Descriptor) -> int:
        fd = 0
        while fd in self.entries:
            fd += 1
        self.entries[fd] = entry
        return fd

    def close(self, fd: int) -> None:
        self.get(fd).close()
        del self.entries[fd]

    def renumber(self, fd: int, to: int) -> None:
        entry = self.get(fd)
        self.get(to)
        if fd != to:
            self.close(to)
            self.entries[to] = entry
            del self.entries[fd]

    def close_all(self) -> None:
        self._finalizer()


def _close_all(entries: dict) -> None:
    for entry in entries.values():
        try:
            entry.close()
        except OSError:
            pass
    entries.clear()


def open_preopen(host_path: str, guest_name: str) -> Directory:
    """A directory descriptor for a preopen; raises OSError if `host_path` is no directory."""
    fd = os.open(host_path, OPEN_DIRECTORY)
    return Directory(fd, guest_name.encode("utf-8"))


class Location:
    """Where a path led: a directory fd and a final name in it (`.` for the directory itself).

    A context manager: leaving it closes the directory fds the walk opened.
    """

    def __init__(self, dir_fd: int, name: bytes, opened: list, must_be_dir: bool):
        self.dir_fd = dir_fd
        self.name = name
        self.opened = opened
        self.must_be_dir = must_be_dir

    def __enter__(self) -> Location:
        return self

    def __exit__(self, *exc) -> None:
        for fd in self.opened:
            os.close(fd)
        self.opened = []

    def lstat(self) -> os.stat_result:
        return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)


def resolve(directory: Directory, path: bytes, follow: bool) -> Location:
    """Walk `path` from `directory` without leaving it; the final component stays unopened.

    `follow` says whether a symlink as the final component is expanded; a path ending in `/`
    always expands it and must name a directory. Symlinks before the end are always expanded.
    """
    if not path:
        raise WasiError(ENOENT)
    if path.startswith(b"/"):
        raise WasiError(ESCAPE)
    parts = deque(_components(path))
    must_be_dir = _names_directory(path)
    opened: list = []
    links = 0
    try:
        while parts:
            part = parts.popleft()
            last = not parts
            top = opened[-1] if opened else directory.host_fd
            if part == b"..":
                if not opened:
                    raise WasiError(ESCAPE)
                os.close(opened.pop())
                continue
            if last and not (follow or must_be_dir):
                return Location(top, part, opened, must_be_dir)
            target = _readlink(part, top)
            if target is not None:
                links += 1
                if links > MAX_SYMLINKS:
                    raise WasiError(ELOOP)
                if target.startswith(b"/"):
                    raise WasiError(ESCAPE)
                if last and _names_directory(target):
                    must_be_dir = True
                parts.extendleft(reversed(_components(target)))
                continue
            if last:
                location = Location(top, part, opened, must_be_dir)
                if must_be_dir:
                    _require_directory(location)
                return location
            opened.append(os.open(part, OPEN_DIRECTORY | _O_NOFOLLOW, dir_fd=top))
        top = opened[-1] if opened else directory.host_fd
        return Location(top, b".", opened, True)
    except BaseException:
        for fd in opened:
            os.close(fd)
        raise


def _components(path: bytes) -> list:
    return [part for part in path.split(b"/") if part and part != b"."]


def _names_directory(path: bytes) -> bool:
    return path.endswith((b"/", b"/.", b"/..")) or path in (b".", b"..")


def _readlink(name: bytes, dir_fd: int) -> bytes | None:
    """The target if `name` is a symlink; None if it is anything else or does not exist."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (host_errno.EINVAL, host_errno.ENOENT):
            return None
        raise


def _require_directory(location: Location) -> None:
    try:
        mode = location.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise WasiError(ENOTDIR)
