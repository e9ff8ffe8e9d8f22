/* Clocks, sleeping through poll_oneoff, randomness, and polling standard streams. Only facts
   that hold on any machine are printed (a clock's value never is). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static long long now(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
    long long real = now(CLOCK_REALTIME);
    printf("realtime after 2020: %d\n", real > 1577836800LL * 1000000000LL);
    long long a = now(CLOCK_MONOTONIC), b = now(CLOCK_MONOTONIC);
    printf("monotonic non-decreasing: %d\n", b >= a);
    struct timespec res;
    printf("clock_getres realtime: %d positive: %d\n", clock_getres(CLOCK_REALTIME, &res),
           res.tv_sec > 0 || res.tv_nsec > 0);
    printf("clock_getres monotonic: %d positive: %d\n", clock_getres(CLOCK_MONOTONIC, &res),
           res.tv_sec > 0 || res.tv_nsec > 0);
    __wasi_timestamp_t t;

    long long before = now(CLOCK_MONOTONIC);
    struct timespec sleep = {0, 20 * 1000000};
    printf("nanosleep: %d\n", nanosleep(&sleep, NULL));
    printf("slept at least 20ms: %d\n", now(CLOCK_MONOTONIC) - before >= 20000000LL);
    before = now(CLOCK_MONOTONIC);
    usleep(5000);
    printf("usleep at least 5ms: %d\n", now(CLOCK_MONOTONIC) - before >= 5000000LL);

    /* Two clock subscriptions: only the earlier one fires. */
    __wasi_subscription_t subs[3];
    __wasi_event_t events[3];
    __wasi_size_t n = 0;
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 111;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 200 * 1000000ULL;
    subs[1].userdata = 222;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 10 * 1000000ULL;
    printf("poll two clocks: errno %d", __wasi_poll_oneoff(subs, events, 2, &n));
    printf(" nevents %lu userdata %llu type %d error %d\n", n, (unsigned long long)events[0].userdata,
           events[0].type, events[0].error);

    /* An absolute deadline already past fires at once. */
    subs[0].u.u.clock.timeout = 1;
    subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    printf("poll past deadline: errno %d", __wasi_poll_oneoff(subs, events, 1, &n));
    printf(" nevents %lu userdata %llu\n", n, (unsigned long long)events[0].userdata);

    /* stdout is writable now, so the clock does not fire. */
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 1;
    subs[0].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[0].u.u.fd_write.file_descriptor = 1;
    subs[1].userdata = 2;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 5000 * 1000000ULL;
    printf("poll stdout writable: errno %d", __wasi_poll_oneoff(subs, events, 2, &n));
    printf(" nevents %lu userdata %llu type %d error %d\n", n, (unsigned long long)events[0].userdata,
           events[0].type, events[0].error);
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = 0;
    printf("poll stdin readable: errno %d", __wasi_poll_oneoff(subs, events, 2, &n));
    printf(" nevents %lu userdata %llu type %d error %d\n", n, (unsigned long long)events[0].userdata,
           events[0].type, events[0].error);
    subs[0].u.u.fd_read.file_descriptor = 77;
    printf("poll bad fd: errno %d", __wasi_poll_oneoff(subs, events, 2, &n));
    printf(" nevents %lu userdata %llu type %d error %d\n", n, (unsigned long long)events[0].userdata,
           events[0].type, events[0].error);
    printf("poll nothing: errno %d\n", __wasi_poll_oneoff(subs, events, 0, &n));

    unsigned char r1[32] = {0}, r2[32] = {0};
    printf("getentropy: %d %d\n", getentropy(r1, sizeof r1), getentropy(r2, sizeof r2));
    printf("random differs: %d\n", memcmp(r1, r2, sizeof r1) != 0);
    printf("random_get 0 bytes: errno %d\n", __wasi_random_get(r1, 0));
    printf("sched_yield: errno %d\n", __wasi_sched_yield());

    __wasi_fdstat_t st;
    for (int fd = 0; fd < 5; fd++) {
        __wasi_errno_t e = __wasi_fd_fdstat_get(fd, &st);
        printf("fdstat %d: errno %d", fd, e);
        if (!e) printf(" filetype %d flags %d", st.fs_filetype, st.fs_flags);
        printf("\n");
    }
    __wasi_prestat_t pre;
    char name[64] = {0};
    printf("prestat 3: errno %d", __wasi_fd_prestat_get(3, &pre));
    printf(" len %lu", pre.u.dir.pr_name_len);
    printf(" name errno %d", __wasi_fd_prestat_dir_name(3, (uint8_t *)name, sizeof name));
    printf(" \"%s\"\n", name);
    printf("prestat 4: errno %d\n", __wasi_fd_prestat_get(4, &pre));
    printf("prestat 1: errno %d\n", __wasi_fd_prestat_get(1, &pre));
    printf("seek stdout: errno %d\n", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &t));
    printf("write stdin: errno %d\n", __wasi_fd_write(0, NULL, 0, &n));
    printf("read bad fd: errno %d\n", __wasi_fd_read(42, NULL, 0, &n));
    printf("close bad fd: errno %d\n", __wasi_fd_close(42));
    printf("renumber bad fd: errno %d\n", __wasi_fd_renumber(42, 3));
    return 0;
}
