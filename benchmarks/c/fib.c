/* Calls and recursion: the doubly recursive Fibonacci function. */

static int fib_rec(int n) {
    return n < 2 ? n : fib_rec(n - 1) + fib_rec(n - 2);
}

int fib(int n) {
    return fib_rec(n);
}
