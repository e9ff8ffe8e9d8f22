/* Files and directories inside a preopen: create, write, read, seek, truncate, append, pread,
   pwrite, stat, rename, link, symlink, readdir, mkdir/rmdir, unlink, set times, and the errors
   each gives. argv[1] is the preopen's guest path; the program works inside it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHECK(call)                                                                   \
    do {                                                                              \
        errno = 0;                                                                    \
        long r_ = (long)(call);                                                       \
        printf("%-44s = %ld%s%s\n", #call, r_, r_ < 0 ? " " : "", r_ < 0 ? strerror(errno) : ""); \
    } while (0)

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("opendir %s: %s\n", dir, strerror(errno));
        return;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        char type = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : e->d_type == DT_LNK ? 'l' : '?';
        char *s = malloc(strlen(e->d_name) + 3);
        sprintf(s, "%c %s", type, e->d_name);
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    printf("listing of %s (%d entries):", dir, n);
    for (int i = 0; i < n; i++) {
        printf(" [%s]", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void show_stat(const char *path, int follow) {
    struct stat st;
    errno = 0;
    int r = follow ? stat(path, &st) : lstat(path, &st);
    if (r < 0) {
        printf("%sstat %s: %s\n", follow ? "" : "l", path, strerror(errno));
        return;
    }
    const char *kind = S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink" : "other";
    printf("%sstat %s: %s size=%lld nlink=%llu\n", follow ? "" : "l", path, kind,
           S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size, (unsigned long long)st.st_nlink);
}

static void cat(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("fopen %s: %s\n", path, strerror(errno));
        return;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("contents of %s: \"%s\"\n", path, buf);
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1]) < 0) {
        printf("chdir failed\n");
        return 1;
    }
    char cwd[256];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd));

    /* create, write, read back, seek */
    int fd = open("notes.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    printf("open notes.txt ok=%d\n", fd >= 0);
    CHECK(write(fd, "hello, world\n", 13));
    CHECK(write(fd, "second line\n", 12));
    CHECK(lseek(fd, 0, SEEK_CUR));
    CHECK(lseek(fd, 7, SEEK_SET));
    char buf[64] = {0};
    CHECK(read(fd, buf, 5));
    printf("read: \"%s\"\n", buf);
    CHECK(lseek(fd, -4, SEEK_END));
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, sizeof buf));
    printf("read: \"%s\"\n", buf);
    CHECK(read(fd, buf, sizeof buf));
    CHECK(lseek(fd, -100, SEEK_SET));
    CHECK(pwrite(fd, "HELLO", 5, 0));
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 12, 0));
    printf("pread: \"%s\"\n", buf);
    CHECK(lseek(fd, 0, SEEK_CUR));
    CHECK(ftruncate(fd, 20));
    show_stat("notes.txt", 1);
    CHECK(ftruncate(fd, 30));
    struct stat st;
    CHECK(fstat(fd, &st));
    printf("fstat size=%lld\n", (long long)st.st_size);
    CHECK(fsync(fd));
    CHECK(fdatasync(fd));
    CHECK(close(fd));
    CHECK(close(fd));
    CHECK(ftruncate(fd, 1));

    /* stdio on files, append mode */
    FILE *f = fopen("log.txt", "w");
    for (int i = 0; i < 5; i++) fprintf(f, "entry %d\n", i);
    fclose(f);
    f = fopen("log.txt", "a");
    fprintf(f, "appended\n");
    fclose(f);
    fd = open("log.txt", O_WRONLY | O_APPEND);
    CHECK(lseek(fd, 0, SEEK_SET));
    CHECK(write(fd, "appended again\n", 15));
    CHECK(fcntl(fd, F_GETFL) & O_APPEND ? 1 : 0);
    CHECK(fcntl(fd, F_SETFL, 0));
    CHECK(fcntl(fd, F_GETFL) & O_APPEND ? 1 : 0);
    CHECK(read(fd, buf, 4));
    close(fd);
    cat("log.txt");
    fd = open("log.txt", O_RDONLY);
    CHECK(write(fd, "x", 1));
    close(fd);

    /* open errors */
    CHECK(open("missing.txt", O_RDONLY));
    CHECK(open("notes.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    CHECK(open("notes.txt/x", O_RDONLY));
    CHECK(open("nodir/x", O_CREAT | O_WRONLY, 0644));

    /* directories */
    CHECK(mkdir("dir", 0755));
    CHECK(mkdir("dir", 0755));
    CHECK(mkdir("dir/sub", 0755));
    CHECK(mkdir("dir/sub/deeper", 0755));
    f = fopen("dir/sub/file.txt", "w");
    fputs("in a subdirectory", f);
    fclose(f);
    cat("dir/sub/../sub/./file.txt");
    show_stat("dir", 1);
    show_stat("dir/sub/file.txt", 1);
    CHECK(rmdir("dir/sub"));
    CHECK(rmdir("dir/sub/deeper"));
    CHECK(rmdir("notes.txt"));
    CHECK(unlink("dir"));
    list(".");
    list("dir/sub");
    list("missing");

    /* rename, link, symlink, readlink */
    CHECK(rename("notes.txt", "renamed.txt"));
    CHECK(rename("notes.txt", "renamed.txt"));
    CHECK(rename("renamed.txt", "dir/sub/moved.txt"));
    CHECK(rename("dir/sub/moved.txt", "renamed.txt"));
    CHECK(rename("dir", "renamed.txt"));
    CHECK(link("renamed.txt", "hardlink.txt"));
    show_stat("renamed.txt", 1);
    CHECK(symlink("renamed.txt", "symlink.txt"));
    CHECK(symlink("dir/sub", "dirlink"));
    CHECK(symlink("nowhere", "dangling"));
    show_stat("symlink.txt", 1);
    show_stat("symlink.txt", 0);
    show_stat("dangling", 1);
    show_stat("dangling", 0);
    char target[64] = {0};
    CHECK(readlink("symlink.txt", target, sizeof target));
    printf("readlink: \"%s\"\n", target);
    memset(target, 0, sizeof target);
    CHECK(readlink("symlink.txt", target, 4));
    printf("readlink (short buffer): \"%s\"\n", target);
    CHECK(readlink("renamed.txt", target, sizeof target));
    cat("dirlink/file.txt");
    cat("symlink.txt");
    list("dirlink");

    /* times */
    struct timespec times[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
    CHECK(utimensat(AT_FDCWD, "renamed.txt", times, 0));
    CHECK(stat("renamed.txt", &st));
    printf("atime=%lld.%09ld mtime=%lld.%09ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1600000000, 5}};
    CHECK(utimensat(AT_FDCWD, "renamed.txt", omit, 0));
    CHECK(stat("renamed.txt", &st));
    printf("atime=%lld.%09ld mtime=%lld.%09ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    fd = open("renamed.txt", O_RDWR);
    struct timespec ftimes[2] = {{1700000000, 0}, {1700000001, 0}};
    CHECK(futimens(fd, ftimes));
    CHECK(fstat(fd, &st));
    printf("mtime=%lld\n", (long long)st.st_mtim.tv_sec);
    close(fd);

    /* unlink */
    CHECK(unlink("hardlink.txt"));
    CHECK(unlink("hardlink.txt"));
    CHECK(unlink("dangling"));
    CHECK(unlink("dir/sub/file.txt"));
    CHECK(rmdir("dir/sub/deeper"));
    CHECK(unlink("dirlink"));

    /* a directory as a file */
    fd = open("dir", O_RDONLY);
    CHECK(read(fd, buf, 4));
    close(fd);
    CHECK(open("dir", O_WRONLY));

    /* many files, a directory listing that needs several fd_readdir calls */
    mkdir("many", 0755);
    for (int i = 0; i < 120; i++) {
        char name[64];
        snprintf(name, sizeof name, "many/file-with-a-rather-long-name-%03d.txt", i);
        f = fopen(name, "w");
        fprintf(f, "%d\n", i * i);
        fclose(f);
    }
    DIR *d = opendir("many");
    int count = 0;
    long sum = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        count++;
        sum += strlen(e->d_name);
    }
    rewinddir(d);
    int again = 0;
    while (readdir(d)) again++;
    closedir(d);
    printf("many: %d entries, %ld name bytes, %d after rewind\n", count, sum, again);
    list(".");
    return 0;
}
