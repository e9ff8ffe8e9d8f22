/* Command-line arguments and environment variables, as the program sees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=\"%s\" (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    int count = 0;
    for (char **e = environ; *e; e++) printf("env[%d]=%s\n", count++, *e);
    printf("HOME=%s\n", getenv("HOME") ? getenv("HOME") : "(unset)");
    printf("GREETING=%s\n", getenv("GREETING") ? getenv("GREETING") : "(unset)");
    printf("MISSING=%s\n", getenv("MISSING") ? getenv("MISSING") : "(unset)");
    setenv("NEW", "value", 1);
    printf("NEW=%s\n", getenv("NEW"));
    return 0;
}
