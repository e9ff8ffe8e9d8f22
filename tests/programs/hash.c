/* Hash functions over a generated buffer and over static strings: FNV-1a, Murmur3 (32-bit),
 * a 64-bit xxhash-like mixer, CRC-32 (table built at run time and a bitwise version),
 * SipHash-2-4, Adler-32, and an open-addressing hash table. Entry points mask their
 * arguments, so any i32/i64 values are valid. */
#include <stdint.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint64_t u64;
typedef int64_t i64;

#define EXPORT(n) __attribute__((export_name(n)))
#define BUF 8192

static u8 buf[BUF];
static u32 crc_table[256];
static int crc_ready;

static const char *const texts[] = {
    "",
    "a",
    "abc",
    "message digest",
    "The quick brown fox jumps over the lazy dog",
    "WebAssembly to Python, ahead of time, with every trap and every wrap.",
    "\x01\x02\x03\xff\xfe\xfd 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
};
#define NTEXTS (sizeof texts / sizeof texts[0])

static u32 str_len(const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  return n;
}

static u32 fill(u32 len, u32 seed) {
  len &= BUF - 1;
  u64 x = seed | ((u64)seed << 32) | 1;
  for (u32 i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = (u8)(x >> 24);
  }
  return len;
}

static u32 fnv1a(const u8 *p, u32 n) {
  u32 h = 2166136261u;
  for (u32 i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static inline u32 rotl32(u32 x, int r) { return (x << r) | (x >> (32 - r)); }
static inline u64 rotl64(u64 x, int r) { return (x << r) | (x >> (64 - r)); }

static u32 murmur3(const u8 *p, u32 n, u32 seed) {
  u32 h = seed, c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
  u32 blocks = n / 4;
  for (u32 i = 0; i < blocks; i++) {
    u32 k;
    __builtin_memcpy(&k, p + 4 * i, 4);
    k *= c1;
    k = rotl32(k, 15);
    k *= c2;
    h ^= k;
    h = rotl32(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  const u8 *tail = p + 4 * blocks;
  u32 k = 0;
  switch (n & 3) {
    case 3: k ^= (u32)tail[2] << 16; /* fallthrough */
    case 2: k ^= (u32)tail[1] << 8; /* fallthrough */
    case 1:
      k ^= tail[0];
      k *= c1;
      k = rotl32(k, 15);
      k *= c2;
      h ^= k;
  }
  h ^= n;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

static u64 xx64(const u8 *p, u32 n, u64 seed) {
  const u64 P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full, P3 = 0x165667B19E3779F9ull;
  u64 acc = seed + P3 + n;
  u32 i = 0;
  for (; i + 8 <= n; i += 8) {
    u64 k;
    __builtin_memcpy(&k, p + i, 8);
    k *= P2;
    k = rotl64(k, 31);
    k *= P1;
    acc ^= k;
    acc = rotl64(acc, 27) * P1 + P2;
  }
  for (; i < n; i++) {
    acc ^= p[i] * P3;
    acc = rotl64(acc, 11) * P1;
  }
  acc ^= acc >> 33;
  acc *= P2;
  acc ^= acc >> 29;
  acc *= P3;
  acc ^= acc >> 32;
  return acc;
}

static void crc_init(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  crc_ready = 1;
}

static u32 crc32_table(const u8 *p, u32 n) {
  if (!crc_ready) crc_init();
  u32 c = 0xFFFFFFFFu;
  for (u32 i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static u32 crc32_bitwise(const u8 *p, u32 n) {
  u32 c = 0xFFFFFFFFu;
  for (u32 i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static u32 adler32(const u8 *p, u32 n) {
  u32 a = 1, b = 0;
  for (u32 i = 0; i < n; i++) {
    a = (a + p[i]) % 65521u;
    b = (b + a) % 65521u;
  }
  return (b << 16) | a;
}

#define SIPROUND                                                   \
  do {                                                             \
    v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32); \
    v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                       \
    v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                       \
    v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32); \
  } while (0)

static u64 siphash24(const u8 *p, u32 n, u64 k0, u64 k1) {
  u64 v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
  u64 v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
  u32 end = n - (n % 8);
  for (u32 i = 0; i < end; i += 8) {
    u64 m = 0;
    for (int k = 0; k < 8; k++) m |= (u64)p[i + k] << (8 * k);
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
  }
  u64 b = (u64)n << 56;
  for (u32 k = 0; k < (n & 7); k++) b |= (u64)p[end + k] << (8 * k);
  v3 ^= b;
  SIPROUND;
  SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

/* which: 0 fnv1a, 1 murmur3, 2 crc32 (table), 3 crc32 (bitwise), 4 adler32 */
EXPORT("hash32")
u32 hash32(u32 which, u32 len, u32 seed) {
  u32 n = fill(len, seed);
  switch (which % 5u) {
    case 0: return fnv1a(buf, n);
    case 1: return murmur3(buf, n, seed);
    case 2: return crc32_table(buf, n);
    case 3: return crc32_bitwise(buf, n);
    default: return adler32(buf, n);
  }
}

EXPORT("hash64")
u64 hash64(u32 which, u32 len, u64 key) {
  u32 n = fill(len, (u32)key);
  if (which & 1u) return siphash24(buf, n, key, ~key * 3u);
  return xx64(buf, n, key);
}

EXPORT("crc_agree")
i32 crc_agree(u32 len, u32 seed) {
  u32 n = fill(len & 1023u, seed);
  return crc32_table(buf, n) == crc32_bitwise(buf, n);
}

EXPORT("hash_texts")
u32 hash_texts(u32 seed) {
  u32 h = seed;
  for (u32 t = 0; t < NTEXTS; t++) {
    const u8 *p = (const u8 *)texts[t];
    u32 n = str_len(texts[t]);
    h ^= fnv1a(p, n);
    h = h * 31u + murmur3(p, n, seed);
    h ^= crc32_table(p, n) + adler32(p, n);
    u64 s = siphash24(p, n, seed, 0x0706050403020100ull) ^ xx64(p, n, h);
    h += (u32)s ^ (u32)(s >> 32);
  }
  return h;
}

/* open addressing with linear probing: insert n keys, then count hits for n probes */
#define SLOTS 4096
static u32 keys[SLOTS];
static u32 vals[SLOTS];
static u8 used[SLOTS];

EXPORT("table_probe")
u32 table_probe(u32 n, u32 seed) {
  n &= 2047u;
  __builtin_memset(used, 0, sizeof used);
  u32 x = seed;
  for (u32 i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    u32 k = x >> 8, slot = murmur3((const u8 *)&k, 4, 7) & (SLOTS - 1);
    while (used[slot] && keys[slot] != k) slot = (slot + 1) & (SLOTS - 1);
    used[slot] = 1;
    keys[slot] = k;
    vals[slot] += i;
  }
  u32 hits = 0, sum = 0;
  x = seed;
  for (u32 i = 0; i < 2 * n; i++) {
    x = x * 1664525u + 1013904223u;
    u32 k = (i & 1) ? x >> 8 : x;
    u32 slot = murmur3((const u8 *)&k, 4, 7) & (SLOTS - 1);
    while (used[slot]) {
      if (keys[slot] == k) {
        hits++;
        sum += vals[slot];
        break;
      }
      slot = (slot + 1) & (SLOTS - 1);
    }
  }
  return hits * 65536u + (sum & 0xffffu);
}
