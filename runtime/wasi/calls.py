"""The wasi_snapshot_preview1 functions, over one WASI context.

Each method is named after its function and takes and returns generated code's raw values
(i32 and i64 as unsigned ints); the result is an errno. `SIGNATURES` gives every function's
Wasm type as the preview1 witx spells it. Errors are raised as WasiError (or OSError) inside
and turned into the errno by `errno_guard`; no other exception reaches the program.
"""

from __future__ import annotations

import errno as host_errno
import os
import stat
import struct
import time

from . import flags
from .errno import (
    EBADF,
    EFAULT,
    EINVAL,
    EIO,
    EISDIR,
    ENAMETOOLONG,
    ENOSYS,
    ENOTCAPABLE,
    ENOTDIR,
    ENOTSUP,
    ESPIPE,
    ESUCCESS,
    from_oserror,
)
from .errors import WasiError, WASIExit
from .fs import (
    ESCAPE,
    Directory,
    FdTable,
    File,
    Stream,
    filetype,
    resolve,
)
from .guest import GuestMemory
from .poll import CLOCKS, poll

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

_I32 = ("i32",)
_SIGNATURE_TEXT = """
args_get i32 i32
args_sizes_get i32 i32
environ_get i32 i32
environ_sizes_get i32 i32
clock_res_get i32 i32
clock_time_get i32 i64 i32
fd_advise i32 i64 i64 i32
fd_allocate i32 i64 i64
fd_close i32
fd_datasync i32
fd_fdstat_get i32 i32
fd_fdstat_set_flags i32 i32
fd_fdstat_set_rights i32 i64 i64
fd_filestat_get i32 i32
fd_filestat_set_size i32 i64
fd_filestat_set_times i32 i64 i64 i32
fd_pread i32 i32 i32 i64 i32
fd_prestat_get i32 i32
fd_prestat_dir_name i32 i32 i32
fd_pwrite i32 i32 i32 i64 i32
fd_read i32 i32 i32 i32
fd_readdir i32 i32 i32 i64 i32
fd_renumber i32 i32
fd_seek i32 i64 i32 i32
fd_sync i32
fd_tell i32 i32
fd_write i32 i32 i32 i32
path_create_directory i32 i32 i32
path_filestat_get i32 i32 i32 i32 i32
path_filestat_set_times i32 i32 i32 i32 i64 i64 i32
path_link i32 i32 i32 i32 i32 i32 i32
path_open i32 i32 i32 i32 i32 i64 i64 i32 i32
path_readlink i32 i32 i32 i32 i32 i32
path_remove_directory i32 i32 i32
path_rename i32 i32 i32 i32 i32 i32
path_symlink i32 i32 i32 i32 i32
path_unlink_file i32 i32 i32
poll_oneoff i32 i32 i32 i32
proc_exit i32
proc_raise i32
sched_yield
random_get i32 i32
sock_accept i32 i32 i32
sock_recv i32 i32 i32 i32 i32 i32
sock_send i32 i32 i32 i32 i32
sock_shutdown i32 i32
"""
# name -> (params, results); every function but proc_exit returns an errno.
SIGNATURES = {
    line.split()[0]: (tuple(line.split()[1:]), () if line.startswith("proc_exit") else _I32)
    for line in _SIGNATURE_TEXT.strip().splitlines()
}

_FDSTAT = struct.Struct("<BxHxxxxQQ")
_FILESTAT = struct.Struct("<QQBxxxxxxxQQQQQ")
_PRESTAT = struct.Struct("<BxxxI")
_DIRENT = struct.Struct("<QQIBxxx")

_WHENCE = {
    flags.WHENCE_SET: os.SEEK_SET,
    flags.WHENCE_CUR: os.SEEK_CUR,
    flags.WHENCE_END: os.SEEK_END,
}
_SIGN64 = 1 << 63


def signed64(value: int) -> int:
    return value - ((value & _SIGN64) << 1)


def errno_guard(call):
    """`call` with every failure turned into the errno it returns to the program."""

    def guarded(*args):
        try:
            return call(*args)
        except WasiError as e:
            return e.errno
        except WASIExit:
            raise
        except OSError as e:
            return from_oserror(e)
        except (struct.error, IndexError):
            return EFAULT
        except (ValueError, OverflowError):
            return EINVAL
        except Exception:
            return EIO

    guarded.__name__ = call.__name__
    return guarded


class Preview1:
    """The state one program sees through WASI, and the functions that act on it."""

    def __init__(self, args: list, env: list, fds: FdTable):
        self.args = args  # encoded, NUL-terminated
        self.env = env
        self.fds = fds
        self.mem = GuestMemory()

    # --- args, environment, clocks, randomness, process ---

    def _strings(self, strings: list, pointers: int, buffer: int) -> int:
        mem = self.mem
        for i, s in enumerate(strings):
            mem.set_u32(pointers + 4 * i, buffer)
            mem.write(buffer, s)
            buffer += len(s)
        return ESUCCESS

    def _sizes(self, strings: list, count_ptr: int, size_ptr: int) -> int:
        self.mem.set_u32(count_ptr, len(strings))
        self.mem.set_u32(size_ptr, sum(len(s) for s in strings))
        return ESUCCESS

    def args_get(self, argv: int, argv_buf: int) -> int:
        return self._strings(self.args, argv, argv_buf)

    def args_sizes_get(self, count_ptr: int, size_ptr: int) -> int:
        return self._sizes(self.args, count_ptr, size_ptr)

    def environ_get(self, environ: int, environ_buf: int) -> int:
        return self._strings(self.env, environ, environ_buf)

    def environ_sizes_get(self, count_ptr: int, size_ptr: int) -> int:
        return self._sizes(self.env, count_ptr, size_ptr)

    def clock_res_get(self, clock_id: int, resolution_ptr: int) -> int:
        clock = CLOCKS.get(clock_id)
        if clock is None:
            return EINVAL
        resolution = time.get_clock_info(clock[1]).resolution
        self.mem.set_u64(resolution_ptr, max(1, int(resolution * 1e9)))
        return ESUCCESS

    def clock_time_get(self, clock_id: int, precision: int, time_ptr: int) -> int:
        clock = CLOCKS.get(clock_id)
        if clock is None:
            return EINVAL
        self.mem.set_u64(time_ptr, clock[0]())
        return ESUCCESS

    def random_get(self, buf: int, buf_len: int) -> int:
        self.mem.write(buf, os.urandom(buf_len))
        return ESUCCESS

    def proc_exit(self, code: int) -> None:
        raise WASIExit(code)

    def proc_raise(self, signal: int) -> int:
        return ENOTSUP  # as in wasmtime: a program cannot signal itself

    def sched_yield(self) -> int:
        time.sleep(0)
        return ESUCCESS

    # --- descriptors ---

    def fd_advise(self, fd: int, offset: int, length: int, advice: int) -> int:
        entry = self.fds.get(fd)
        if advice > 5:
            return EINVAL
        if isinstance(entry, Directory):
            return EBADF
        return ESUCCESS

    def fd_allocate(self, fd: int, offset: int, length: int) -> int:
        entry = self._file(fd)
        end = offset + length
        if end > os.fstat(entry.host_fd).st_size:
            os.ftruncate(entry.host_fd, end)
        return ESUCCESS

    def fd_close(self, fd: int) -> int:
        self.fds.close(fd)
        return ESUCCESS

    def fd_datasync(self, fd: int) -> int:
        entry = self._file(fd)
        getattr(os, "fdatasync", os.fsync)(entry.host_fd)
        return ESUCCESS

    def fd_sync(self, fd: int) -> int:
        entry = self.fds.get(fd)
        if entry.host_fd is not None:
            os.fsync(entry.host_fd)
        return ESUCCESS

    def fd_fdstat_get(self, fd: int, buf: int) -> int:
        entry = self.fds.get(fd)
        fdflags = entry.fdflags
        if isinstance(entry, File):
            fdflags = self._host_fdflags(entry)
        self.mem.pack(
            _FDSTAT, buf, entry.filetype, fdflags, entry.rights_base, entry.rights_inheriting
        )
        return ESUCCESS

    def _host_fdflags(self, entry: File) -> int:
        if fcntl is None:
            return entry.fdflags
        host = fcntl.fcntl(entry.host_fd, fcntl.F_GETFL)
        result = entry.fdflags & ~(flags.FDFLAG_APPEND | flags.FDFLAG_NONBLOCK)
        if host & os.O_APPEND:
            result |= flags.FDFLAG_APPEND
        if host & os.O_NONBLOCK:
            result |= flags.FDFLAG_NONBLOCK
        return result

    def fd_fdstat_set_flags(self, fd: int, fdflags: int) -> int:
        entry = self.fds.get(fd)
        settable = flags.FDFLAG_APPEND | flags.FDFLAG_NONBLOCK
        if fdflags & ~settable:
            return ENOTSUP
        if not isinstance(entry, File) or fcntl is None:
            return EBADF if fdflags & flags.FDFLAG_APPEND else ESUCCESS
        host = fcntl.fcntl(entry.host_fd, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
        if fdflags & flags.FDFLAG_APPEND:
            host |= os.O_APPEND
        if fdflags & flags.FDFLAG_NONBLOCK:
            host |= os.O_NONBLOCK
        fcntl.fcntl(entry.host_fd, fcntl.F_SETFL, host)
        entry.fdflags = fdflags
        return ESUCCESS

    def fd_fdstat_set_rights(self, fd: int, rights_base: int, rights_inheriting: int) -> int:
        entry = self.fds.get(fd)
        if rights_base & ~entry.rights_base or rights_inheriting & ~entry.rights_inheriting:
            return ENOTCAPABLE
        entry.rights_base = rights_base
        entry.rights_inheriting = rights_inheriting
        return ESUCCESS

    def fd_filestat_get(self, fd: int, buf: int) -> int:
        entry = self.fds.get(fd)
        if entry.host_fd is None:
            self.mem.pack(_FILESTAT, buf, 0, 0, entry.filetype, 0, 0, 0, 0, 0)
            return ESUCCESS
        self._put_filestat(buf, os.fstat(entry.host_fd))
        return ESUCCESS

    def _put_filestat(self, buf: int, st: os.stat_result) -> None:
        self.mem.pack(
            _FILESTAT,
            buf,
            st.st_dev & 0xFFFFFFFFFFFFFFFF,
            st.st_ino & 0xFFFFFFFFFFFFFFFF,
            filetype(st.st_mode),
            st.st_nlink,
            st.st_size,
            max(st.st_atime_ns, 0),
            max(st.st_mtime_ns, 0),
            max(st.st_ctime_ns, 0),
        )

    def fd_filestat_set_size(self, fd: int, size: int) -> int:
        entry = self._file(fd)
        os.ftruncate(entry.host_fd, size)
        return ESUCCESS

    def fd_filestat_set_times(self, fd: int, atim: int, mtim: int, fstflags: int) -> int:
        entry = self.fds.get(fd)
        if entry.host_fd is None:
            return EBADF
        times = _new_times(os.fstat(entry.host_fd), atim, mtim, fstflags)
        os.utime(entry.host_fd, ns=times)
        return ESUCCESS

    def fd_pread(self, fd: int, iovs: int, iovs_len: int, offset: int, nread_ptr: int) -> int:
        entry = self._file(fd, seekable=True)
        data = os.pread(entry.host_fd, self.mem.capacity(iovs, iovs_len), offset)
        self.mem.scatter(iovs, iovs_len, data)
        self.mem.set_u32(nread_ptr, len(data))
        return ESUCCESS

    def fd_pwrite(self, fd: int, iovs: int, iovs_len: int, offset: int, nwritten_ptr: int) -> int:
        entry = self._file(fd, seekable=True)
        if entry.fdflags & flags.FDFLAG_APPEND:
            return EINVAL  # POSIX pwrite on an append-mode file ignores the offset
        n = os.pwrite(entry.host_fd, self.mem.gather(iovs, iovs_len), offset)
        self.mem.set_u32(nwritten_ptr, n)
        return ESUCCESS

    def fd_read(self, fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
        entry = self.fds.get(fd)
        size = self.mem.capacity(iovs, iovs_len)
        if isinstance(entry, Stream):
            if entry.number != 0:
                return EBADF
            data = entry.read(size)
        elif isinstance(entry, File):
            data = os.read(entry.host_fd, size)
        else:
            return EBADF
        self.mem.scatter(iovs, iovs_len, data)
        self.mem.set_u32(nread_ptr, len(data))
        return ESUCCESS

    def fd_write(self, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
        entry = self.fds.get(fd)
        data = self.mem.gather(iovs, iovs_len)
        if isinstance(entry, Stream):
            if entry.number == 0:
                return EBADF
            n = entry.write(data)
        elif isinstance(entry, File):
            n = os.write(entry.host_fd, data)
        else:
            return EBADF
        self.mem.set_u32(nwritten_ptr, n)
        return ESUCCESS

    def fd_seek(self, fd: int, offset: int, whence: int, newoffset_ptr: int) -> int:
        entry = self._file(fd, seekable=True)
        if whence not in _WHENCE:
            return EINVAL
        position = os.lseek(entry.host_fd, signed64(offset), _WHENCE[whence])
        self.mem.set_u64(newoffset_ptr, position)
        return ESUCCESS

    def fd_tell(self, fd: int, offset_ptr: int) -> int:
        entry = self._file(fd, seekable=True)
        self.mem.set_u64(offset_ptr, os.lseek(entry.host_fd, 0, os.SEEK_CUR))
        return ESUCCESS

    def fd_renumber(self, fd: int, to: int) -> int:
        self.fds.renumber(fd, to)
        return ESUCCESS

    def _file(self, fd: int, seekable: bool = False) -> File:
        entry = self.fds.get(fd)
        if isinstance(entry, File):
            return entry
        if isinstance(entry, Directory):
            raise WasiError(EISDIR if not seekable else EBADF)
        raise WasiError(ESPIPE if seekable else EBADF)

    # --- preopens and directories ---

    def fd_prestat_get(self, fd: int, buf: int) -> int:
        entry = self.fds.get(fd)
        if not isinstance(entry, Directory) or entry.guest_name is None:
            return EBADF
        self.mem.pack(_PRESTAT, buf, flags.PREOPEN_DIR, len(entry.guest_name))
        return ESUCCESS

    def fd_prestat_dir_name(self, fd: int, path: int, path_len: int) -> int:
        entry = self.fds.get(fd)
        if not isinstance(entry, Directory) or entry.guest_name is None:
            return EBADF
        if path_len < len(entry.guest_name):
            return ENAMETOOLONG
        self.mem.write(path, entry.guest_name)
        return ESUCCESS

    def fd_readdir(self, fd: int, buf: int, buf_len: int, cookie: int, bufused_ptr: int) -> int:
        entry = self.fds.get(fd)
        if not isinstance(entry, Directory):
            return ENOTDIR if isinstance(entry, File) else EBADF
        listing = entry.entries(cookie)
        out = bytearray()
        for index in range(cookie, len(listing)):
            if len(out) >= buf_len:
                break
            name, inode, kind = listing[index]
            out += _DIRENT.pack(index + 1, inode & 0xFFFFFFFFFFFFFFFF, len(name), kind)
            out += name
        out = out[:buf_len]
        self.mem.write(buf, bytes(out))
        self.mem.set_u32(bufused_ptr, len(out))
        return ESUCCESS

    # --- paths ---

    def _path(self, fd: int, path: int, path_len: int, follow: bool):
        directory = self.fds.directory(fd)
        return resolve(directory, self.mem.string(path, path_len), follow)

    def path_create_directory(self, fd: int, path: int, path_len: int) -> int:
        with self._path(fd, path, path_len, False) as at:
            os.mkdir(at.name, 0o777, dir_fd=at.dir_fd)
        return ESUCCESS

    def path_filestat_get(self, fd: int, lookup: int, path: int, path_len: int, buf: int) -> int:
        follow = bool(lookup & flags.LOOKUP_SYMLINK_FOLLOW)
        with self._path(fd, path, path_len, follow) as at:
            st = at.lstat()
        self._put_filestat(buf, st)
        return ESUCCESS

    def path_filestat_set_times(
        self, fd: int, lookup: int, path: int, path_len: int, atim: int, mtim: int, fst: int
    ) -> int:
        follow = bool(lookup & flags.LOOKUP_SYMLINK_FOLLOW)
        with self._path(fd, path, path_len, follow) as at:
            times = _new_times(at.lstat(), atim, mtim, fst)
            os.utime(at.name, ns=times, dir_fd=at.dir_fd, follow_symlinks=False)
        return ESUCCESS

    def path_link(
        self,
        old_fd: int,
        old_lookup: int,
        old_path: int,
        old_path_len: int,
        new_fd: int,
        new_path: int,
        new_path_len: int,
    ) -> int:
        follow = bool(old_lookup & flags.LOOKUP_SYMLINK_FOLLOW)
        with self._path(old_fd, old_path, old_path_len, follow) as old:
            with self._path(new_fd, new_path, new_path_len, False) as new:
                _link(old, new)
        return ESUCCESS

    def path_open(
        self,
        fd: int,
        lookup: int,
        path: int,
        path_len: int,
        oflags: int,
        rights_base: int,
        rights_inheriting: int,
        fdflags: int,
        fd_ptr: int,
    ) -> int:
        self.mem.u32(fd_ptr)  # a bad result pointer fails before anything is created
        follow = bool(lookup & flags.LOOKUP_SYMLINK_FOLLOW)
        with self._path(fd, path, path_len, follow) as at:
            if oflags & flags.OFLAG_DIRECTORY:
                at.must_be_dir = True
            mode = _open_flags(oflags, rights_base, fdflags, at.must_be_dir)
            host_fd = os.open(at.name, mode, 0o666, dir_fd=at.dir_fd)
        try:
            mode = os.fstat(host_fd).st_mode
            kind = filetype(mode)
            if kind == flags.FILETYPE_DIRECTORY:
                entry = Directory(host_fd)
                entry.rights_base &= rights_base
                entry.rights_inheriting &= rights_inheriting
            else:
                entry = File(host_fd, kind, _file_rights(rights_base), fdflags)
                entry.rights_base &= rights_base
        except BaseException:
            os.close(host_fd)
            raise
        self.mem.set_u32(fd_ptr, self.fds.add(entry))
        return ESUCCESS

    def path_readlink(
        self, fd: int, path: int, path_len: int, buf: int, buf_len: int, bufused_ptr: int
    ) -> int:
        with self._path(fd, path, path_len, False) as at:
            target = os.readlink(at.name, dir_fd=at.dir_fd)
        target = target[:buf_len]
        self.mem.write(buf, target)
        self.mem.set_u32(bufused_ptr, len(target))
        return ESUCCESS

    def path_remove_directory(self, fd: int, path: int, path_len: int) -> int:
        with self._path(fd, path, path_len, False) as at:
            os.rmdir(at.name, dir_fd=at.dir_fd)
        return ESUCCESS

    def path_rename(
        self, fd: int, old_path: int, old_len: int, new_fd: int, new_path: int, new_len: int
    ) -> int:
        with self._path(fd, old_path, old_len, False) as old:
            with self._path(new_fd, new_path, new_len, False) as new:
                os.rename(old.name, new.name, src_dir_fd=old.dir_fd, dst_dir_fd=new.dir_fd)
        return ESUCCESS

    def path_symlink(
        self, old_path: int, old_len: int, fd: int, new_path: int, new_len: int
    ) -> int:
        target = self.mem.string(old_path, old_len)
        if target.startswith(b"/"):
            return ESCAPE
        with self._path(fd, new_path, new_len, False) as at:
            os.symlink(target, at.name, dir_fd=at.dir_fd)
        return ESUCCESS

    def path_unlink_file(self, fd: int, path: int, path_len: int) -> int:
        with self._path(fd, path, path_len, False) as at:
            os.unlink(at.name, dir_fd=at.dir_fd)
        return ESUCCESS

    # --- polling ---

    def poll_oneoff(self, in_ptr: int, out_ptr: int, count: int, nevents_ptr: int) -> int:
        self.mem.u32(nevents_ptr)
        nevents = poll(self.fds, self.mem, in_ptr, out_ptr, count)
        self.mem.set_u32(nevents_ptr, nevents)
        return ESUCCESS

    # --- sockets: not supported ---

    def sock_accept(self, fd: int, fdflags: int, fd_ptr: int) -> int:
        return ENOSYS

    def sock_recv(self, fd, ri_data, ri_data_len, ri_flags, ro_datalen_ptr, ro_flags_ptr) -> int:
        return ENOSYS

    def sock_send(self, fd, si_data, si_data_len, si_flags, so_datalen_ptr) -> int:
        return ENOSYS

    def sock_shutdown(self, fd: int, how: int) -> int:
        return ENOSYS


_READ_RIGHTS = flags.RIGHT_FD_READ | flags.RIGHT_FD_READDIR
_WRITE_RIGHTS = flags.RIGHT_FD_WRITE | flags.RIGHT_FD_ALLOCATE | flags.RIGHT_FD_FILESTAT_SET_SIZE
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_SYNC_FLAGS = (
    (flags.FDFLAG_DSYNC, getattr(os, "O_DSYNC", 0)),
    (flags.FDFLAG_RSYNC, getattr(os, "O_RSYNC", 0)),
    (flags.FDFLAG_SYNC, getattr(os, "O_SYNC", 0)),
)


def _open_flags(oflags: int, rights_base: int, fdflags: int, directory: bool) -> int:
    """Host `os.open` flags for path_open; the access mode follows the rights asked for."""
    read = rights_base & _READ_RIGHTS
    write = rights_base & _WRITE_RIGHTS
    if directory:
        mode = os.O_RDONLY | _O_DIRECTORY
    elif read and write:
        mode = os.O_RDWR
    elif write:
        mode = os.O_WRONLY
    else:
        mode = os.O_RDONLY
    mode |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    if oflags & flags.OFLAG_CREAT:
        mode |= os.O_CREAT
    if oflags & flags.OFLAG_EXCL:
        mode |= os.O_EXCL
    if oflags & flags.OFLAG_TRUNC:
        mode |= os.O_TRUNC
    if fdflags & flags.FDFLAG_APPEND:
        mode |= os.O_APPEND
    if fdflags & flags.FDFLAG_NONBLOCK:
        mode |= os.O_NONBLOCK
    for wasi_flag, host_flag in _SYNC_FLAGS:
        if fdflags & wasi_flag:
            mode |= host_flag
    return mode


def _file_rights(rights_base: int) -> int:
    """A file's rights, by the access mode its rights asked for (see `_open_flags`)."""
    read = rights_base & _READ_RIGHTS
    write = rights_base & _WRITE_RIGHTS
    if read and write:
        return flags.RIGHTS_FILE
    if write:
        return flags.RIGHTS_FILE_WRITE_ONLY
    return flags.RIGHTS_FILE_READ_ONLY


def _new_times(st: os.stat_result, atim: int, mtim: int, fstflags: int) -> tuple:
    """(atime, mtime) in ns for the set_times calls; an unflagged time stays as it is."""
    if fstflags & flags.FST_ATIM and fstflags & flags.FST_ATIM_NOW:
        raise WasiError(EINVAL)
    if fstflags & flags.FST_MTIM and fstflags & flags.FST_MTIM_NOW:
        raise WasiError(EINVAL)
    now = time.time_ns()
    atime = st.st_atime_ns
    if fstflags & flags.FST_ATIM:
        atime = atim
    elif fstflags & flags.FST_ATIM_NOW:
        atime = now
    mtime = st.st_mtime_ns
    if fstflags & flags.FST_MTIM:
        mtime = mtim
    elif fstflags & flags.FST_MTIM_NOW:
        mtime = now
    return (atime, mtime)


def _link(old, new) -> None:
    """linkat(2) without following a final symlink (resolve() already followed if asked)."""
    try:
        os.link(
            old.name, new.name, src_dir_fd=old.dir_fd, dst_dir_fd=new.dir_fd, follow_symlinks=False
        )
        return
    except OSError as e:
        if e.errno != host_errno.EINVAL:
            raise
    # PyPy 3.9 rejects follow_symlinks=False. Following is the same when the source is no
    # symlink; the program is single-threaded, so it cannot swap one in between the calls.
    if stat.S_ISLNK(old.lstat().st_mode):
        raise WasiError(ENOTSUP)
    os.link(old.name, new.name, src_dir_fd=old.dir_fd, dst_dir_fd=new.dir_fd)
