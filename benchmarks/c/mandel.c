/* f32 arithmetic: the Mandelbrot set on an n x n grid over [-2, 1] x [-1, 1], at most 64
   iterations a point. Returns the total number of iterations. */

#define MAX_ITER 64

unsigned mandel(int n) {
    unsigned total = 0;
    float size = (float)n;
    for (int py = 0; py < n; py++) {
        float ci = 2.0f * (float)py / size - 1.0f;
        for (int px = 0; px < n; px++) {
            float cr = 3.0f * (float)px / size - 2.0f;
            float zr = 0.0f, zi = 0.0f;
            int it = 0;
            while (it < MAX_ITER) {
                float zr2 = zr * zr, zi2 = zi * zi;
                if (zr2 + zi2 > 4.0f)
                    break;
                zi = 2.0f * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                it++;
            }
            total += it;
        }
    }
    return total;
}
