/* A reactor: no main; the embedder calls `_initialize` once, then the exports, passing data
   through linear memory (allocated with the module's own malloc). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int initialized;
static long calls;

__attribute__((constructor)) static void init(void) { initialized = getenv("WHO") ? 42 : 41; }

__attribute__((export_name("initialized"))) int get_initialized(void) { return initialized; }

__attribute__((export_name("alloc"))) void *alloc(size_t n) { return malloc(n); }

__attribute__((export_name("release"))) void release(void *p) { free(p); }

/* Uppercases `n` bytes at `s` in place; returns how many changed. */
__attribute__((export_name("upper"))) int upper(char *s, int n) {
    int changed = 0;
    calls++;
    for (int i = 0; i < n; i++) {
        char c = (char)toupper((unsigned char)s[i]);
        changed += c != s[i];
        s[i] = c;
    }
    return changed;
}

/* FNV-1a over `n` bytes. */
__attribute__((export_name("fnv1a"))) uint32_t fnv1a(const unsigned char *s, int n) {
    uint32_t h = 2166136261u;
    calls++;
    for (int i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

/* Writes a greeting to stdout and returns a new NUL-terminated string the caller frees. */
__attribute__((export_name("greet"))) char *greet(const char *name) {
    calls++;
    printf("hello, %s! (WHO=%s)\n", name, getenv("WHO") ? getenv("WHO") : "unset");
    fflush(stdout);
    char *out = malloc(strlen(name) + 8);
    sprintf(out, "<<%s>>", name);
    return out;
}

__attribute__((export_name("calls"))) long get_calls(void) { return calls; }
