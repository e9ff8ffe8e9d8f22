/* Memory-bound integer code with recursion: fill n ints from a 32-bit LCG, sort them with a
   recursive quicksort (Hoare partition, middle pivot), return a polynomial hash of the result. */

#define MAX_N (1 << 18)

static int items[MAX_N];

static void sort(int *a, int lo, int hi) {
    if (lo >= hi)
        return;
    int pivot = a[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
        while (a[i] < pivot)
            i++;
        while (a[j] > pivot)
            j--;
        if (i <= j) {
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
    }
    sort(a, lo, j);
    sort(a, i, hi);
}

unsigned quicksort(int n) {
    if (n > MAX_N)
        n = MAX_N;
    unsigned x = 12345;
    for (int i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        items[i] = (int)x;
    }
    sort(items, 0, n - 1);
    unsigned h = 0;
    for (int i = 0; i < n; i++)
        h = h * 31 + (unsigned)items[i];
    return h;
}
