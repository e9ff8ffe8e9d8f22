/* Ways a program ends: `return N`, `exit(N)` (stdio flushed), `_Exit(N)` (not flushed),
   `abort()` (a trap). atexit handlers run on exit(N). argv[1] picks one, argv[2] is N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bye(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "return";
    int code = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(how, "exit")) atexit(bye);
    printf("ending by %s %d\n", how, code);
    fprintf(stderr, "to stderr before ending\n");
    if (!strcmp(how, "exit")) exit(code);
    if (!strcmp(how, "_Exit")) {
        fflush(stdout);
        printf("this line is lost\n");
        _Exit(code);
    }
    if (!strcmp(how, "abort")) {
        fflush(stdout);
        abort();
    }
    return code;
}
