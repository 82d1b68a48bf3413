/*
 * The activation quantizer of several builds of libviditq.so, timed on PixArt-XL/2's inputs and checked for equal
 * outputs: 512 rows (a 256-token batch with its guidance half) of k = 1152 and 4608, each rotated by H_36 (x) H_k/36
 * as the ViDiT-Q presets do, and plain. Each round quantizes a fresh copy of the activations (written just before,
 * as the kernel that produced them would have), so that the rows come from where a step finds them, not from L1.
 *
 *   gcc -O2 -std=gnu11 dev/amx/quantize-lab.c -o /tmp/quantize-lab -ldl -pthread
 *   THREADS=1,2 /tmp/quantize-lab A.so B.so ...     (IMPL=avx512-vnni by default; rounds alternate the libraries)
 *
 * Prints microseconds per call (median of 31 rounds) and each library's time over the first's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef const void *(*impl_fn)(const char *);
typedef int (*quantize_fn)(const void *, const float *, int64_t, int32_t, int32_t, const float *, int32_t, int32_t,
                           const float *, float, int8_t *, int64_t, float *, int32_t *);

#define MAX_LIBS 6
#define ROUNDS 31
#define ROWS 512

typedef struct {
    quantize_fn quantize;
    const void *impl;
} lib;

typedef struct {
    const lib *l;
    const float *x, *diag, *hmat;
    int r0, r1, k, hblock, hm;
    int8_t *q;
    float *scales;
    int32_t *sums;
} job;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void *run_job(void *p) {
    job *j = (job *)p;
    int rows = j->r1 - j->r0;
    float post = j->hblock ? 1.0f / 6.0f : 1.0f;   /* any positive factor: it only scales the scale */
    int st = j->l->quantize(j->l->impl, j->x + (int64_t)j->r0 * j->k, j->k, rows, j->k, j->diag, j->hblock, j->hm,
                            j->hmat, post, j->q + (int64_t)j->r0 * j->k, j->k, j->scales + j->r0, j->sums + j->r0);
    if (st) fprintf(stderr, "quantize returned %d\n", st), exit(1);
    return NULL;
}

/* One call over ROWS rows cut into `threads` row ranges, as the pool cuts it. */
static double timed_call(const lib *l, int threads, const float *x, const float *diag, const float *hmat, int k,
                         int hblock, int hm, int8_t *q, float *scales, int32_t *sums) {
    pthread_t t[64];
    job jobs[64];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){l, x, diag, hmat, ROWS * i / threads, ROWS * (i + 1) / threads, k, hblock, hm, q, scales, sums};
        if (i) pthread_create(&t[i], NULL, run_job, &jobs[i]);
    }
    run_job(&jobs[0]);
    for (int i = 1; i < threads; i++) pthread_join(t[i], NULL);
    return now() - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) return fprintf(stderr, "usage: THREADS=1,2 %s LIB.so ...\n", argv[0]), 2;
    int nlibs = argc - 1 < MAX_LIBS ? argc - 1 : MAX_LIBS;
    const char *impl_name = getenv("IMPL") ? getenv("IMPL") : "avx512-vnni";
    lib libs[MAX_LIBS];
    for (int i = 0; i < nlibs; i++) {
        void *h = dlopen(argv[i + 1], RTLD_NOW | RTLD_LOCAL);
        if (!h) return fprintf(stderr, "%s\n", dlerror()), 1;
        impl_fn impl = (impl_fn)dlsym(h, "viditq_impl");
        libs[i].quantize = (quantize_fn)dlsym(h, "viditq_quantize");
        libs[i].impl = impl ? impl(impl_name) : NULL;
        if (!libs[i].impl || !libs[i].quantize) return fprintf(stderr, "%s: no %s quantizer\n", argv[i + 1], impl_name), 1;
    }
    int thread_counts[8], nthreads = 0;
    for (char *s = getenv("THREADS") ? strdup(getenv("THREADS")) : strdup("1,2"), *tok; (tok = strsep(&s, ","));)
        if (nthreads < 8) thread_counts[nthreads++] = atoi(tok);
    srand(7);
    float hmat[36 * 36];
    for (int i = 0; i < 36 * 36; i++) hmat[i] = rand() & 1 ? 1.0f : -1.0f;   /* timing only: any +-1 matrix */
    int ks[] = {1152, 4608};
    for (int ki = 0; ki < 2; ki++) {
        int k = ks[ki];
        size_t n = (size_t)ROWS * k;
        float *src = malloc(n * 4), *x = aligned_alloc(64, n * 4), *diag = malloc(k * 4);
        for (size_t i = 0; i < n; i++) src[i] = (float)rand() / RAND_MAX - 0.5f + (i % 97 == 0 ? 8.0f : 0.0f);
        for (int i = 0; i < k; i++) diag[i] = (rand() & 1 ? 1.0f : -1.0f) * (0.5f + (float)rand() / RAND_MAX);
        int8_t *q[MAX_LIBS];
        float *sc[MAX_LIBS];
        int32_t *su[MAX_LIBS];
        for (int i = 0; i < nlibs; i++) q[i] = malloc(n), sc[i] = malloc(ROWS * 4), su[i] = malloc(ROWS * 4);
        for (int rot = 1; rot >= 0; rot--) {
            int hblock = rot ? k : 0, hm = rot ? 36 : 1;
            const float *d = rot ? diag : NULL, *hm_ = rot ? hmat : NULL;
            for (int ti = 0; ti < nthreads; ti++) {
                int threads = thread_counts[ti];
                double times[MAX_LIBS][ROUNDS];
                for (int r = 0; r < ROUNDS; r++) {
                    for (int i = 0; i < nlibs; i++) {
                        int li = (r & 1) ? nlibs - 1 - i : i;   /* alternate the order between rounds */
                        memcpy(x, src, n * 4);
                        times[li][r] = timed_call(&libs[li], threads, x, d, hm_, k, hblock, hm, q[li], sc[li], su[li]);
                    }
                }
                printf("k=%d %-9s threads %d:", k, rot ? "rotated" : "plain", threads);
                double base = 0;
                for (int i = 0; i < nlibs; i++) {
                    qsort(times[i], ROUNDS, sizeof(double), cmp_double);
                    double med = times[i][ROUNDS / 2] * 1e6;
                    if (!i) base = med;
                    int same = !memcmp(q[i], q[0], n) && !memcmp(sc[i], sc[0], ROWS * 4) && !memcmp(su[i], su[0], ROWS * 4);
                    printf("  %s %.1f us (x%.3f)%s", strrchr(argv[i + 1], '/') ? strrchr(argv[i + 1], '/') + 1 : argv[i + 1],
                           med, med / base, same ? "" : " DIFFERENT OUTPUT");
                }
                printf("\n");
                fflush(stdout);
            }
        }
        for (int i = 0; i < nlibs; i++) free(q[i]), free(sc[i]), free(su[i]);
        free(src), free(x), free(diag);
    }
    return 0;
}
