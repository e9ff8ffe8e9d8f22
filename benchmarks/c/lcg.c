/* 64-bit integer arithmetic: n steps of Knuth's MMIX linear congruential generator, folding
   each output into an FNV-style 64-bit accumulator. */

unsigned long long lcg(int n) {
    unsigned long long x = 42, acc = 14695981039346656037ull;
    for (int i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        acc = (acc ^ (x >> 29)) * 1099511628211ull;
        acc ^= acc >> 32;
    }
    return acc;
}
