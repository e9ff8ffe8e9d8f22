/* Indirect calls: a loop calling one of eight small functions through a table of function
   pointers (call_indirect), chosen by the running value. */

typedef unsigned (*op_fn)(unsigned, unsigned);

static unsigned op_add(unsigned a, unsigned b) { return a + b; }
static unsigned op_sub(unsigned a, unsigned b) { return a - b; }
static unsigned op_xor(unsigned a, unsigned b) { return a ^ (b * 0x9e3779b9u); }
static unsigned op_mul(unsigned a, unsigned b) { return a * (b | 1); }
static unsigned op_rotl(unsigned a, unsigned b) { return (a << (b & 31)) | (a >> ((32 - b) & 31)); }
static unsigned op_mix(unsigned a, unsigned b) { return a * 33 ^ b; }
static unsigned op_shift(unsigned a, unsigned b) { return a + (b << 3) + (a >> 5); }
static unsigned op_not(unsigned a, unsigned b) { return ~a ^ b; }

static op_fn ops[8] = {op_add, op_sub, op_xor, op_mul, op_rotl, op_mix, op_shift, op_not};

unsigned indirect(int n) {
    unsigned acc = 1;
    for (int i = 0; i < n; i++)
        acc = ops[(acc ^ (unsigned)i) & 7](acc, (unsigned)i);
    return acc;
}
