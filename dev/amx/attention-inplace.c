/*
 * attention-inplace LIB.so [LIB.so ...]: the attention of a PixArt-XL/2 256 px block as the model runs it, per
 * library: two samples of 256 tokens x 16 heads x 72 read in place from a fused q/k/v buffer [512, 3456] (rows
 * 13.8 KB apart), each head packed (viditq_attention_pack) and attended (viditq_attention) by the thread that takes
 * it, the outputs written into [512, 1152]. Before each pass the q/k/v buffer is rewritten by the same threads in
 * column halves, as the GEMM that produces it leaves it (in L2/L3, part of it in the other core's cache).
 * Per library and thread count, the median over 15 rounds of the per-head microseconds of:
 *   pack      every head packed, nothing attended;
 *   attend    every head attended from operands packed beforehand (one slot per head; the pack is not timed);
 *   both      pack then attend per head, as the product does;
 *   alone     each thread's first head packed once, then attended as many times as the thread has heads (the kernel
 *             alone, as dev/amx/attention-heads times it, but with every thread busy: what sharing a core costs).
 * UNIT=1: the AVX512-BF16 kernel (default), UNIT=2: AMX. THREADS=1,2 (default): thread counts, heads split evenly.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

typedef void (*sizes_fn)(int32_t, int32_t, int32_t, int64_t *);
typedef int32_t (*pack_fn)(const float *, int64_t, const float *, int64_t, const float *, int64_t, int32_t, int32_t,
                           int32_t, uint16_t *, uint16_t *, uint16_t *);
typedef int32_t (*att_fn)(int32_t, const uint16_t *, const uint16_t *, const uint16_t *, const float *, const float *,
                          int64_t, float, int32_t, int32_t, int32_t, int32_t, int32_t, float *, int64_t);

enum { LQ = 256, D = 72, HEADS = 16, SAMPLES = 2, UNITS = SAMPLES * HEADS, ROWS = SAMPLES * LQ, WIDTH = HEADS * D,
       LDQKV = 3 * WIDTH, ROUNDS = 15, MODES = 4 };
enum { PACK, ATTEND, BOTH, ALONE };
static const char *MODE_NAMES[MODES] = {"pack", "attend", "both", "alone"};

typedef struct {
    pack_fn pack;
    att_fn attend;
    int64_t elements;   /* packed elements per head */
} lib;

typedef struct {
    const lib *l;
    float *qkv, *out;
    uint16_t *slots;    /* one packed head per unit (attend), or per thread (pack, both) */
    int unit, mode, thread, threads;
    pthread_barrier_t *start;
    double seconds;
} job;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const float *head_q(const float *qkv, int u) { return qkv + (int64_t)(u / HEADS) * LQ * LDQKV + (u % HEADS) * D; }

static uint16_t *slot(uint16_t *slots, const lib *l, int i) { return slots + (size_t)i * (l->elements + 64); }

static void pack_head(const lib *l, const float *qkv, int u, uint16_t *s, const int64_t *sizes) {
    const float *q = head_q(qkv, u);
    l->pack(q, LDQKV, q + WIDTH, LDQKV, q + 2 * WIDTH, LDQKV, LQ, LQ, D, s, s + sizes[0], s + sizes[0] + sizes[1]);
}

static void attend_head(const lib *l, int unit, float *out, int u, const uint16_t *s, const int64_t *sizes) {
    float *o = out + (int64_t)(u / HEADS) * LQ * WIDTH + (u % HEADS) * D;
    l->attend(unit, s, s + sizes[0], s + sizes[0] + sizes[1], NULL, NULL, 0, 0.117851f, LQ, LQ, D, 0, LQ, o, WIDTH);
}

static int64_t SIZES[3];

/* The q/k/v columns [c0, c1) of every row rewritten (x + 0, so the values stay), as a GEMM's column split leaves them. */
static void rewrite(float *qkv, int c0, int c1) {
    for (int r = 0; r < ROWS; r++) {
        float *row = qkv + (int64_t)r * LDQKV;
        for (int c = c0; c < c1; c++) row[c] = row[c] + 0.0f;
    }
}

static void *run(void *arg) {
    job *j = arg;
    int u0 = UNITS * j->thread / j->threads, u1 = UNITS * (j->thread + 1) / j->threads;
    pthread_barrier_wait(j->start);
    rewrite(j->qkv, LDQKV * j->thread / j->threads, LDQKV * (j->thread + 1) / j->threads);
    pthread_barrier_wait(j->start);
    uint16_t *own = slot(j->slots, j->l, UNITS + j->thread);
    if (j->mode == ALONE) pack_head(j->l, j->qkv, u0, own, SIZES);
    double t0 = now();
    for (int u = u0; u < u1; u++) {
        if (j->mode == ALONE) {
            attend_head(j->l, j->unit, j->out, u0, own, SIZES);
            continue;
        }
        uint16_t *s = j->mode == ATTEND ? slot(j->slots, j->l, u) : own;
        if (j->mode != ATTEND) pack_head(j->l, j->qkv, u, s, SIZES);
        if (j->mode != PACK) attend_head(j->l, j->unit, j->out, u, s, SIZES);
    }
    j->seconds = now() - t0;
    return NULL;
}

/* Seconds per head of one pass of `mode` over all heads on `threads` threads (the slowest thread's time). */
static double pass(const lib *l, float *qkv, float *out, uint16_t *slots, int unit, int mode, int threads) {
    pthread_t t[16];
    job jobs[16];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, threads);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){l, qkv, out, slots, unit, mode, i, threads, &start, 0};
        if (i > 0) pthread_create(&t[i], NULL, run, &jobs[i]);
    }
    run(&jobs[0]);
    double worst = jobs[0].seconds;
    for (int i = 1; i < threads; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].seconds > worst) worst = jobs[i].seconds;
    }
    pthread_barrier_destroy(&start);
    return worst / ((double)UNITS / threads);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 9) {
        fprintf(stderr, "usage: attention-inplace LIB.so [LIB.so ...] (at most 8)\n");
        return 2;
    }
    int nlib = argc - 1, unit = getenv("UNIT") ? atoi(getenv("UNIT")) : 1;
    int counts[4] = {1, 2}, ncounts = 2;
    if (getenv("THREADS")) {
        char list[64];
        snprintf(list, sizeof list, "%s", getenv("THREADS"));
        ncounts = 0;
        for (char *n = strtok(list, ","); n && ncounts < 4; n = strtok(NULL, ",")) {
            if (atoi(n) >= 1 && atoi(n) <= 16) counts[ncounts++] = atoi(n);
        }
    }
    lib libs[8];
    for (int i = 0; i < nlib; i++) {
        void *h = dlopen(argv[i + 1], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            printf("%s\n", dlerror());
            return 1;
        }
        sizes_fn sz = (sizes_fn)dlsym(h, "viditq_attention_sizes");
        libs[i].pack = (pack_fn)dlsym(h, "viditq_attention_pack");
        libs[i].attend = (att_fn)dlsym(h, "viditq_attention");
        sz(LQ, LQ, D, SIZES);
        libs[i].elements = SIZES[0] + SIZES[1] + SIZES[2];
    }
    float *qkv = aligned_alloc(64, sizeof(float) * ROWS * LDQKV), *out = aligned_alloc(64, sizeof(float) * ROWS * WIDTH);
    srand(7);
    for (long i = 0; i < (long)ROWS * LDQKV; i++) qkv[i] = (rand() / (float)RAND_MAX - 0.5f) * 3;
    uint16_t *slots = aligned_alloc(64, 2 * (size_t)(UNITS + 16) * (libs[0].elements + 64));
    for (int i = 0; i < UNITS; i++) pack_head(&libs[0], qkv, i, slot(slots, &libs[0], i), SIZES);
    printf("PixArt 256 px attention in place: %d heads of %d x %d x %d, unit %d; microseconds per head (medians of %d)\n",
           UNITS, LQ, LQ, D, unit, ROUNDS);
    for (int ci = 0; ci < ncounts; ci++) {
        int threads = counts[ci];
        static double t[8][MODES][ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {   /* the libraries in turn within each round, so drift hits them alike */
            for (int li = 0; li < nlib; li++) {
                for (int m = 0; m < MODES; m++) t[li][m][r] = 1e6 * pass(&libs[li], qkv, out, slots, unit, m, threads);
            }
        }
        for (int li = 0; li < nlib; li++) {
            printf("threads %d %-28s", threads, strrchr(argv[li + 1], '/') ? strrchr(argv[li + 1], '/') + 1 : argv[li + 1]);
            for (int m = 0; m < MODES; m++) {
                qsort(t[li][m], ROUNDS, sizeof(double), cmp);
                printf("  %s %6.1f", MODE_NAMES[m], t[li][m][ROUNDS / 2]);
            }
            printf("  (both / alone %.2f)\n", t[li][BOTH][ROUNDS / 2] / t[li][ALONE][ROUNDS / 2]);
            fflush(stdout);
        }
    }
    return 0;
}
