/* Calls every wasi_snapshot_preview1 function once, through wasi-libc's declarations (so the
   module imports each with the spec's signature), and prints the errno each returns. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

/* Newer wasi-libc headers no longer declare proc_raise; import it by hand. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise"))) int32_t
raw_proc_raise(int32_t sig);

#define SHOW(name, call) printf("%-24s %d\n", name, (int)(call))

int main(void) {
    __wasi_size_t a, b;
    __wasi_timestamp_t t;
    __wasi_fdstat_t fdstat;
    __wasi_filestat_t filestat;
    __wasi_prestat_t prestat;
    __wasi_fd_t fd;
    __wasi_filesize_t size;
    char buf[256];
    uint8_t *ptrs[16];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"data\n", 5};
    __wasi_subscription_t sub;
    __wasi_event_t ev;
    memset(&sub, 0, sizeof sub);
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = 1000;

    SHOW("args_sizes_get", __wasi_args_sizes_get(&a, &b));
    SHOW("args_get", __wasi_args_get(ptrs, (uint8_t *)buf));
    SHOW("environ_sizes_get", __wasi_environ_sizes_get(&a, &b));
    SHOW("environ_get", __wasi_environ_get(ptrs, (uint8_t *)buf));
    SHOW("clock_res_get", __wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &t));
    SHOW("clock_time_get", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t));
    SHOW("fd_prestat_get", __wasi_fd_prestat_get(3, &prestat));
    SHOW("fd_prestat_dir_name", __wasi_fd_prestat_dir_name(3, (uint8_t *)buf, sizeof buf));
    SHOW("path_open", __wasi_path_open(3, 0, "f.txt", __WASI_OFLAGS_CREAT,
                                       __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE |
                                           __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL,
                                       0, 0, &fd));
    SHOW("fd_write", __wasi_fd_write(fd, &ciov, 1, &a));
    SHOW("fd_pwrite", __wasi_fd_pwrite(fd, &ciov, 1, 10, &a));
    SHOW("fd_seek", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &size));
    SHOW("fd_read", __wasi_fd_read(fd, &iov, 1, &a));
    SHOW("fd_pread", __wasi_fd_pread(fd, &iov, 1, 2, &a));
    SHOW("fd_tell", __wasi_fd_tell(fd, &size));
    SHOW("fd_advise", __wasi_fd_advise(fd, 0, 10, __WASI_ADVICE_SEQUENTIAL));
    SHOW("fd_allocate", __wasi_fd_allocate(fd, 0, 100));
    SHOW("fd_datasync", __wasi_fd_datasync(fd));
    SHOW("fd_sync", __wasi_fd_sync(fd));
    SHOW("fd_fdstat_get", __wasi_fd_fdstat_get(fd, &fdstat));
    SHOW("fd_fdstat_set_flags", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    SHOW("fd_fdstat_set_rights", __wasi_fd_fdstat_set_rights(fd, fdstat.fs_rights_base, 0));
    SHOW("fd_filestat_get", __wasi_fd_filestat_get(fd, &filestat));
    SHOW("fd_filestat_set_size", __wasi_fd_filestat_set_size(fd, 3));
    SHOW("fd_filestat_set_times", __wasi_fd_filestat_set_times(fd, 5, 6, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_fd_t dir;
    SHOW("path_open (directory)", __wasi_path_open(3, 0, ".", __WASI_OFLAGS_DIRECTORY,
                                                   __WASI_RIGHTS_FD_READDIR, 0, 0, &dir));
    SHOW("fd_readdir", __wasi_fd_readdir(dir, (uint8_t *)buf, sizeof buf, 0, &a));
    SHOW("fd_renumber", __wasi_fd_renumber(dir, fd));
    SHOW("fd_close", __wasi_fd_close(fd));
    SHOW("fd_close (renumbered)", __wasi_fd_close(dir));
    SHOW("path_create_directory", __wasi_path_create_directory(3, "d"));
    SHOW("path_filestat_get", __wasi_path_filestat_get(3, 0, "f.txt", &filestat));
    SHOW("path_filestat_set_times", __wasi_path_filestat_set_times(3, 0, "f.txt", 1, 2, __WASI_FSTFLAGS_MTIM));
    SHOW("path_link", __wasi_path_link(3, 0, "f.txt", 3, "g.txt"));
    SHOW("path_symlink", __wasi_path_symlink("f.txt", 3, "s"));
    SHOW("path_readlink", __wasi_path_readlink(3, "s", (uint8_t *)buf, sizeof buf, &a));
    SHOW("path_rename", __wasi_path_rename(3, "s", 3, "s2"));
    SHOW("path_unlink_file", __wasi_path_unlink_file(3, "s2"));
    SHOW("path_remove_directory", __wasi_path_remove_directory(3, "d"));
    SHOW("poll_oneoff", __wasi_poll_oneoff(&sub, &ev, 1, &a));
    SHOW("random_get", __wasi_random_get((uint8_t *)buf, 16));
    SHOW("sched_yield", __wasi_sched_yield());
    fflush(stdout);
    SHOW("sock_accept", __wasi_sock_accept(0, 0, &fd));
    SHOW("sock_recv", __wasi_sock_recv(0, &iov, 1, 0, &a, (uint16_t *)&b));
    SHOW("sock_send", __wasi_sock_send(0, &ciov, 1, 0, &a));
    SHOW("sock_shutdown", __wasi_sock_shutdown(0, __WASI_SDFLAGS_RD));
    SHOW("proc_raise", raw_proc_raise(15));
    fflush(stdout);
    __wasi_proc_exit(5);
}
