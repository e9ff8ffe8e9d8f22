/* Attempts to reach files outside the preopen; each must fail, and the errno is printed.
   The harness makes the preopen contain: inside.txt, sub/, and symlinks
   out_rel -> ../outside.txt, out_abs -> (absolute path of outside.txt), sub/up -> ../..,
   ok -> inside.txt, loop1 <-> loop2, chain -> sub/../ok, subl -> sub. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static void raw_open(const char *path, int follow) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path,
                                        0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    printf("raw open %-28s follow=%d -> errno %d\n", path, follow, e);
    if (e == 0) {
        char buf[64];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        printf("  read: %s\n", buf);
        close(fd);
    }
}

static void raw_stat(const char *path) {
    __wasi_filestat_t st;
    __wasi_errno_t e = __wasi_path_filestat_get(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, &st);
    printf("raw stat %-28s -> errno %d\n", path, e);
}

static void libc_open(const char *path) {
    errno = 0;
    int fd = open(path, O_RDONLY);
    printf("libc open %-27s -> %s\n", path, fd < 0 ? strerror(errno) : "opened");
    if (fd >= 0) close(fd);
}

int main(void) {
    const char *paths[] = {
        "inside.txt", "ok", "../outside.txt", "sub/../../outside.txt", "sub/../inside.txt",
        "/etc/passwd", "out_rel", "out_abs", "sub/up/outside.txt", "sub/up", "..", ".",
        "./sub/./../inside.txt", "missing/../inside.txt", "inside.txt/", "sub/",
        "loop1", "chain", "subl/../inside.txt", "subl/up/outside.txt", "sub//..//inside.txt",
        "", "ok/",
    };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        raw_open(paths[i], 1);
        raw_open(paths[i], 0);
        raw_stat(paths[i]);
    }
    libc_open("../outside.txt");
    libc_open("/etc/passwd");
    libc_open("out_rel");
    libc_open("sub/up/outside.txt");
    /* Creating things outside must fail too. */
    __wasi_errno_t e;
    e = __wasi_path_create_directory(3, "../newdir");
    printf("mkdir ../newdir -> errno %d\n", e);
    e = __wasi_path_symlink("/etc/passwd", 3, "abs_link");
    printf("symlink /etc/passwd -> errno %d\n", e);
    e = __wasi_path_symlink("../outside.txt", 3, "rel_link");
    printf("symlink ../outside.txt -> errno %d\n", e);
    e = __wasi_path_rename(3, "inside.txt", 3, "../stolen.txt");
    printf("rename to ../stolen.txt -> errno %d\n", e);
    e = __wasi_path_link(3, 0, "inside.txt", 3, "../hard.txt");
    printf("link to ../hard.txt -> errno %d\n", e);
    e = __wasi_path_unlink_file(3, "../outside.txt");
    printf("unlink ../outside.txt -> errno %d\n", e);
    e = __wasi_path_unlink_file(3, "out_rel");
    printf("unlink out_rel (the link itself) -> errno %d\n", e);
    return 0;
}
