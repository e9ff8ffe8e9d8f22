/* f64 arithmetic over memory: multiply two n x n matrices, return the sum of the product. */

#define MAX_N 160

static double a[MAX_N * MAX_N], b[MAX_N * MAX_N], c[MAX_N * MAX_N];

double matmul(int n) {
    if (n > MAX_N)
        n = MAX_N;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (double)(i - j) / (double)(i + j + 1);
            b[i * n + j] = (double)((i * j) % 7) * 0.25 + 1.0;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
    double total = 0.0;
    for (int i = 0; i < n * n; i++)
        total += c[i];
    return total;
}
