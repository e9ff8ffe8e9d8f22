/* Sorting: quicksort, merge sort, heap sort, insertion sort and a qsort-like routine that
 * takes its comparator as a function pointer (call_indirect). Every entry point masks its
 * arguments, so any i32 values are valid; results are checksums of the sorted data. */
#include <stdint.h>

typedef uint32_t u32;
typedef int32_t i32;
typedef uint64_t u64;
typedef int64_t i64;

#define EXPORT(n) __attribute__((export_name(n)))
#define MAXN 2048

/* Built without bulk memory, so clang calls memcpy for copies of unknown size. */
void *memcpy(void *dst, const void *src, unsigned long n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

static i32 data[MAXN];
static i32 scratch[MAXN];
static i64 wide[MAXN];
static double reals[MAXN];

static u32 lcg_state;
static u32 lcg(void) {
  lcg_state = lcg_state * 1103515245u + 12345u;
  return lcg_state ^ (lcg_state >> 15);
}

static u32 fill(u32 n, u32 seed) {
  n &= MAXN - 1;
  lcg_state = seed;
  for (u32 i = 0; i < n; i++) data[i] = (i32)lcg() >> (i & 7);
  return n;
}

static u32 checksum(const i32 *a, u32 n) {
  u32 h = 2166136261u;
  for (u32 i = 0; i < n; i++) h = (h ^ (u32)a[i]) * 16777619u;
  return h;
}

static i32 is_sorted(const i32 *a, u32 n) {
  for (u32 i = 1; i < n; i++)
    if (a[i - 1] > a[i]) return 0;
  return 1;
}

static void swap(i32 *a, i32 *b) {
  i32 t = *a;
  *a = *b;
  *b = t;
}

static void quicksort(i32 *a, i32 lo, i32 hi) {
  while (lo < hi) {
    i32 mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) swap(&a[mid], &a[lo]);
    if (a[hi] < a[lo]) swap(&a[hi], &a[lo]);
    if (a[hi] < a[mid]) swap(&a[hi], &a[mid]);
    i32 pivot = a[mid], i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(&a[i], &a[j]);
        i++;
        j--;
      }
    }
    /* recurse into the smaller half, loop on the larger */
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
}

static void merge_sort(i32 *a, i32 *tmp, u32 n) {
  for (u32 width = 1; width < n; width *= 2) {
    for (u32 lo = 0; lo < n; lo += 2 * width) {
      u32 mid = lo + width < n ? lo + width : n;
      u32 hi = lo + 2 * width < n ? lo + 2 * width : n;
      u32 i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    for (u32 i = 0; i < n; i++) a[i] = tmp[i];
  }
}

static void sift_down(i32 *a, u32 start, u32 end) {
  u32 root = start;
  while (2 * root + 1 <= end) {
    u32 child = 2 * root + 1, sw = root;
    if (a[sw] < a[child]) sw = child;
    if (child + 1 <= end && a[sw] < a[child + 1]) sw = child + 1;
    if (sw == root) return;
    swap(&a[root], &a[sw]);
    root = sw;
  }
}

static void heap_sort(i32 *a, u32 n) {
  if (n < 2) return;
  for (i32 start = (i32)(n - 2) / 2; start >= 0; start--) sift_down(a, (u32)start, n - 1);
  for (u32 end = n - 1; end > 0; end--) {
    swap(&a[end], &a[0]);
    sift_down(a, 0, end - 1);
  }
}

static void insertion_sort(i32 *a, u32 n) {
  for (u32 i = 1; i < n; i++) {
    i32 v = a[i];
    u32 j = i;
    while (j > 0 && a[j - 1] > v) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = v;
  }
}

/* generic sort with a comparator passed by pointer: shell sort over byte records */
typedef int (*cmp_fn)(const void *, const void *);

static void shell_sort(void *base, u32 n, u32 size, cmp_fn cmp) {
  unsigned char *b = base;
  static const u32 gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  unsigned char tmp[16];
  for (u32 g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
    u32 gap = gaps[g];
    for (u32 i = gap; i < n; i++) {
      __builtin_memcpy(tmp, b + i * size, size);
      u32 j = i;
      while (j >= gap && cmp(b + (j - gap) * size, tmp) > 0) {
        __builtin_memcpy(b + j * size, b + (j - gap) * size, size);
        j -= gap;
      }
      __builtin_memcpy(b + j * size, tmp, size);
    }
  }
}

static int cmp_i32(const void *x, const void *y) {
  i32 a = *(const i32 *)x, b = *(const i32 *)y;
  return (a > b) - (a < b);
}
static int cmp_i32_desc(const void *x, const void *y) { return cmp_i32(y, x); }
static int cmp_i64(const void *x, const void *y) {
  i64 a = *(const i64 *)x, b = *(const i64 *)y;
  return (a > b) - (a < b);
}
static int cmp_f64(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}
static int cmp_abs_then_value(const void *x, const void *y) {
  i32 a = *(const i32 *)x, b = *(const i32 *)y;
  u32 ua = a < 0 ? 0u - (u32)a : (u32)a, ub = b < 0 ? 0u - (u32)b : (u32)b;
  if (ua != ub) return ua < ub ? -1 : 1;
  return cmp_i32(x, y);
}

static cmp_fn const comparators[] = {cmp_i32, cmp_i32_desc, cmp_abs_then_value};

/* algo: 0 quicksort, 1 merge, 2 heap, 3 insertion, 4.. shell sort with comparator */
EXPORT("sort_checksum")
u32 sort_checksum(u32 algo, u32 n, u32 seed) {
  algo %= 7u;
  if (algo == 3u) n &= 255u;
  n = fill(n, seed);
  switch (algo) {
    case 0: if (n) quicksort(data, 0, (i32)n - 1); break;
    case 1: merge_sort(data, scratch, n); break;
    case 2: heap_sort(data, n); break;
    case 3: insertion_sort(data, n); break;
    default: shell_sort(data, n, sizeof(i32), comparators[algo - 4u]); break;
  }
  u32 sorted = algo < 5u ? (u32)is_sorted(data, n) : 2u;
  return checksum(data, n) ^ sorted;
}

/* all algorithms must agree */
EXPORT("sorts_agree")
i32 sorts_agree(u32 n, u32 seed) {
  u32 ref = sort_checksum(0, n, seed);
  for (u32 algo = 1; algo < 5; algo++)
    if (sort_checksum(algo, n, seed) != ref && !(algo == 3u && (n & (MAXN - 1)) > 255u))
      return -(i32)algo;
  return 1;
}

EXPORT("sort_i64")
i64 sort_i64(u32 n, u32 seed) {
  n &= MAXN - 1;
  lcg_state = seed;
  for (u32 i = 0; i < n; i++) wide[i] = ((i64)(i32)lcg() << 20) ^ lcg();
  shell_sort(wide, n, sizeof(i64), cmp_i64);
  i64 h = 0;
  for (u32 i = 0; i < n; i++) h = h * 31 + wide[i] * (i64)(i + 1);
  return h;
}

EXPORT("sort_f64")
double sort_f64(u32 n, u32 seed) {
  n &= 511u;
  lcg_state = seed;
  for (u32 i = 0; i < n; i++) reals[i] = (double)(i32)lcg() / (double)(lcg() | 1u);
  shell_sort(reals, n, sizeof(double), cmp_f64);
  double h = 0.0;
  for (u32 i = 0; i < n; i++) h = h * 0.5 + reals[i];
  return h;
}

/* median via sort of a copy, then binary search of each element's rank */
EXPORT("median_rank")
u32 median_rank(u32 n, u32 seed) {
  n = fill(n, seed) | 1u;
  for (u32 i = 0; i < n; i++) scratch[i] = data[i];
  quicksort(scratch, 0, (i32)n - 1);
  u32 acc = (u32)scratch[n / 2];
  for (u32 i = 0; i < n; i += 7) {
    u32 lo = 0, hi = n;
    while (lo < hi) {
      u32 mid = (lo + hi) / 2;
      if (scratch[mid] < data[i]) lo = mid + 1; else hi = mid;
    }
    acc = acc * 31u + lo;
  }
  return acc;
}
