/*
 * attention-heads LIB.so [LIB.so ...]: per shape (lq, lk, d), times viditq_attention (the kernel alone: one head,
 * packed once, no bias) of each library in turn, 1 thread; prints the median over 15 rounds of each library's
 * best-of-3 GFLOP/s and the median of the per-round ratios to the first. UNIT=1: the AVX512-BF16 kernel (default),
 * UNIT=2: AMX. Up to 8 libraries (builds of native/src/main/c from different commits, or with parts left out).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
typedef void (*sizes_fn)(int32_t, int32_t, int32_t, int64_t *);
typedef int32_t (*pack_fn)(const float *, int64_t, const float *, int64_t, const float *, int64_t, int32_t, int32_t, int32_t, uint16_t *, uint16_t *, uint16_t *);
typedef int32_t (*att_fn)(int32_t, const uint16_t *, const uint16_t *, const uint16_t *, const float *, const float *, int64_t, float, int32_t, int32_t, int32_t, int32_t, int32_t, float *, int64_t);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
    if (argc < 2 || argc > 9) { fprintf(stderr, "usage: attention-heads LIB.so [LIB.so ...] (at most 8)\n"); return 2; }
    int nlib = argc - 1, unit = getenv("UNIT") ? atoi(getenv("UNIT")) : 1;
    sizes_fn sz[8]; pack_fn pk[8]; att_fn at[8];
    for (int i = 0; i < nlib; i++) {
        void *h = dlopen(argv[i + 1], RTLD_NOW | RTLD_LOCAL);
        if (!h) { printf("%s\n", dlerror()); return 1; }
        sz[i] = (sizes_fn)dlsym(h, "viditq_attention_sizes"); pk[i] = (pack_fn)dlsym(h, "viditq_attention_pack"); at[i] = (att_fn)dlsym(h, "viditq_attention");
    }
    int shapes[][3] = {{1024, 1024, 72}, {256, 256, 72}, {256, 120, 72}, {768, 768, 128}, {16, 16, 72}};
    for (int si = 0; si < 5; si++) {
        int lq = shapes[si][0], lk = shapes[si][1], d = shapes[si][2];
        int64_t s[3]; sz[0](lq, lk, d, s);
        float *q = malloc(4L * lq * d), *k = malloc(4L * lk * d), *v = malloc(4L * lk * d), *o = malloc(4L * lq * d);
        srand(7);
        for (long i = 0; i < (long)lq * d; i++) q[i] = (rand() / (float)RAND_MAX - 0.5f) * 3;
        for (long i = 0; i < (long)lk * d; i++) { k[i] = (rand() / (float)RAND_MAX - 0.5f) * 3; v[i] = rand() / (float)RAND_MAX - 0.5f; }
        uint16_t *qb = aligned_alloc(64, 2 * s[0] + 64), *kp = aligned_alloc(64, 2 * s[1] + 64), *vp = aligned_alloc(64, 2 * s[2] + 64);
        pk[0](q, d, k, d, v, d, lq, lk, d, qb, kp, vp);
        double flops = 4.0 * lq * lk * d;
        int reps = (int)(1e9 / flops) + 1, rounds = 15;
        double best[8][64];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < nlib; i++) {
                double b = 1e9;
                for (int t = 0; t < 3; t++) {
                    double t0 = now();
                    for (int j = 0; j < reps; j++) at[i](unit, qb, kp, vp, NULL, NULL, 0, 0.117f, lq, lk, d, 0, lq, o, d);
                    double dt = (now() - t0) / reps; if (dt < b) b = dt;
                }
                best[i][r] = b;
            }
        }
        printf("lq=%d lk=%d d=%d:", lq, lk, d);
        for (int i = 0; i < nlib; i++) {
            double g[64], ratio[64];
            for (int r = 0; r < rounds; r++) { g[r] = flops / best[i][r] / 1e9; ratio[r] = best[0][r] / best[i][r]; }
            qsort(g, rounds, sizeof(double), cmp); qsort(ratio, rounds, sizeof(double), cmp);
            printf("  %s %.1f (x%.3f)", strrchr(argv[i + 1], '/') + 1, g[rounds / 2], ratio[rounds / 2]);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
