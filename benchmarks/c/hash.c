/* 32-bit hashing over a byte buffer: fill n bytes from xorshift32, hash them with FNV-1a,
   then MurmurHash3 (x86_32) over the whole 32-bit words, seeded with the FNV hash. */

#define MAX_N (1 << 20)

static unsigned char buf[MAX_N] __attribute__((aligned(4)));

static unsigned rotl(unsigned x, int r) {
    return (x << r) | (x >> (32 - r));
}

unsigned hash(int n) {
    if (n > MAX_N)
        n = MAX_N;
    unsigned x = 2463534242u;
    for (int i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (unsigned char)(x >> 24);
    }
    unsigned h = 2166136261u;
    for (int i = 0; i < n; i++) {
        h ^= buf[i];
        h *= 16777619u;
    }
    const unsigned *words = (const unsigned *)buf;
    for (int i = 0; i < n / 4; i++) {
        unsigned k = words[i];
        k *= 0xcc9e2d51u;
        k = rotl(k, 15);
        k *= 0x1b873593u;
        h ^= k;
        h = rotl(h, 13);
        h = h * 5 + 0xe6546b64u;
    }
    h ^= (unsigned)n;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}
