/* Integer loops over bytes: the sieve of Eratosthenes up to n.
   Returns the sum of the primes <= n (mod 2^32) xor their count shifted left by 20. */

#define MAX_N 2000000

static unsigned char composite[MAX_N + 1];

unsigned sieve(int n) {
    if (n > MAX_N)
        n = MAX_N;
    for (int i = 0; i <= n; i++)
        composite[i] = 0;
    int root = 0;
    while ((root + 1) * (root + 1) <= n)
        root++;
    unsigned count = 0, sum = 0;
    for (int i = 2; i <= n; i++) {
        if (composite[i])
            continue;
        count++;
        sum += i;
        if (i <= root)
            for (int j = i * i; j <= n; j += i)
                composite[j] = 1;
    }
    return sum ^ (count << 20);
}
