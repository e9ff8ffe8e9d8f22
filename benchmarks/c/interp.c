/* br_table-heavy code: a tiny stack-machine bytecode interpreter whose switch compiles to a
   br_table. The program loops n times over acc = acc * 31 ^ i; acc += acc >> 7. */

enum {
    HALT, PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, DUP, LT, JNZ, JMP, AND
};

/* Registers: r0 = n, r1 = acc, r2 = i. */
static const unsigned char program[] = {
    PUSH, 0, STORE, 2,                                /* 0: i = 0 */
    LOAD, 1, PUSH, 31, MUL, LOAD, 2, XOR, STORE, 1,   /* 4: acc = acc * 31 ^ i */
    LOAD, 1, SHR, 7, LOAD, 1, ADD, STORE, 1,          /* 14: acc += acc >> 7 */
    LOAD, 2, PUSH, 1, ADD, DUP, STORE, 2,             /* 23: i += 1 */
    LOAD, 0, LT, JNZ, 4,                              /* 31: if i < n goto 4 */
    LOAD, 1, HALT,                                    /* 36: return acc */
};

unsigned interp(int n) {
    unsigned stack[16];
    unsigned regs[4] = {(unsigned)n, 1, 0, 0};
    int sp = 0, pc = 0;
    for (;;) {
        unsigned a, b;
        switch (program[pc++]) {
        case HALT:
            return stack[sp - 1];
        case PUSH:
            stack[sp++] = program[pc++];
            break;
        case LOAD:
            stack[sp++] = regs[program[pc++]];
            break;
        case STORE:
            regs[program[pc++]] = stack[--sp];
            break;
        case ADD:
            b = stack[--sp], a = stack[--sp];
            stack[sp++] = a + b;
            break;
        case SUB:
            b = stack[--sp], a = stack[--sp];
            stack[sp++] = a - b;
            break;
        case MUL:
            b = stack[--sp], a = stack[--sp];
            stack[sp++] = a * b;
            break;
        case XOR:
            b = stack[--sp], a = stack[--sp];
            stack[sp++] = a ^ b;
            break;
        case SHR:
            a = stack[--sp];
            stack[sp++] = a >> program[pc++];
            break;
        case DUP:
            a = stack[sp - 1];
            stack[sp++] = a;
            break;
        case LT:
            b = stack[--sp], a = stack[--sp];
            stack[sp++] = a < b;
            break;
        case JNZ:
            a = stack[--sp];
            pc = a ? program[pc] : pc + 1;
            break;
        case JMP:
            pc = program[pc];
            break;
        case AND:
            b = stack[--sp], a = stack[--sp];
            stack[sp++] = a & b;
            break;
        }
    }
}
