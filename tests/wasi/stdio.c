/* Standard streams: read all of stdin line by line, echo it transformed to stdout, report on
   stderr, and exercise the printf family and unbuffered/line-buffered output. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0;
    long bytes = 0;
    printf("isatty: %d %d %d\n", isatty(0), isatty(1), isatty(2));
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lines++;
        bytes += n;
        for (ssize_t i = 0; i < n; i++) line[i] = (char)toupper((unsigned char)line[i]);
        printf("%4d| %s", lines, line);
        if (line[n - 1] != '\n') putchar('\n');
    }
    free(line);
    fprintf(stderr, "stderr: %d lines, %ld bytes\n", lines, bytes);
    printf("%d %i %u %x %X %o %c %s %%\n", -42, 7, 3000000000u, 0xbeef, 0xBEEF, 8, 'z', "str");
    printf("[%5d] [%-5d] [%05d] [%+d] [% d] [%.3s] [%10.4f] [%-10.2e] [%g] [%g]\n", 42, 42, 42,
           42, 42, "abcdef", 3.14159265, 12345.678, 0.0001, 1e20);
    printf("%lld %llu %zu %p\n", -9223372036854775807LL - 1, 18446744073709551615ULL,
           sizeof(long double), (void *)0x1234);
    char buf[32];
    int w = snprintf(buf, sizeof buf, "%s-%d-%.2f", "snprintf", 99, 2.5);
    printf("%s (%d)\n", buf, w);
    fputs("fputs line\n", stdout);
    fwrite("fwrite\n", 1, 7, stdout);
    fflush(stdout);
    setvbuf(stderr, NULL, _IONBF, 0);
    for (int i = 0; i < 3; i++) fprintf(stderr, "err %d\n", i);
    write(1, "raw write(1)\n", 13);
    write(2, "raw write(2)\n", 13);
    static char big[70000];
    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = '\n';
    fwrite(big, 1, sizeof big, stdout);
    puts("done");
    return 0;
}
