/*
 * AMX GEMM lab: the product's tile kernels (native/src/main/c/kernels_amx.c, included as is) against variants of
 * their driver, to see where a GEMM's time goes on an AMX host:
 *   product  the shipped driver: weights in the VNNI panels, the epilogue in slices between k-blocks;
 *   whole    the same tiles with each block's epilogue issued whole after the next block's dot products;
 *   none     no epilogue at all (outputs not written: timing only);
 *   rows     (int8) as whole, the epilogue's loops swapped: per row, both 16-column halves, so the row's activation
 *            scale and sum are broadcast once instead of twice; same operations per output, same outputs;
 *   uniform-zero (int8) as rows, the zero-point correction one integer per row (z * qsum[row], as when every
 *            column has the same zero point: symmetric weights) instead of a vpmulld per 16 outputs; the lab's
 *            weights have one zero point, so the outputs are the same;
 *   cvt-only (int8) as rows with only the int-to-float conversion and the store: what the epilogue costs at least
 *            (outputs differ: timing only);
 *   tiles-*  whole / none with the weights as contiguous 1 KiB tiles instead of rows 192 bytes apart;
 *   a-tiles-* whole / none with the activations as contiguous 1 KiB tiles (16 rows x 64 bytes of one k-block)
 *            instead of 16 rows lda bytes apart, packed before the timing; a-tiles-pack the same, each thread
 *            packing all rows inside the timing (what a driver that repacks its sweep would pay);
 *            ab-tiles-none both operands as tiles, no epilogue;
 *   1x3-*    another blocking: 16 rows x one 48-column weight panel per block, three sums, three weight tiles, and
 *            the activation tile in two tiles used by turns (1x3-whole / 1x3-none), so the next k-block's
 *            activation load need not wait for the products reading the last one; 1x3-single-none with one
 *            activation tile, to tell the turns from the blocking. The 2 x 2 block of the others needs all eight
 *            tiles (four sums, two of each operand), and tiles are not renamed: every load waits for the products
 *            still reading the tile it replaces;
 *   plain    the product's driver with every tile loaded by the plain TILELOADD;
 *   a-t1 / b-t1 / ab-t1  as plain with the activation (weight, both) tiles loaded by TILELOADDT1, the load that
 *            hints the data will not be reused: the 32 activation rows of a row block (36 KiB at k = 1152, int8)
 *            stream through L1 past the column block's weights (36 KiB), which L1 (48 KiB) cannot hold beside them.
 *            a-t1 is what the product's KBLOCK does since it was measured faster (plain is the driver before);
 *   pf-a / pf-ab  the product with the activation rows (and the weight rows) of the k-block PF_DIST ahead
 *            prefetched into L1 while the tiles work on this one; a-t1-pf-b both;
 *   same-a / same-b / same-ab  the product's driver with every row block reading the activations of the first
 *            (every column block the weights of the first, both): the same tile work and schedule on operands that
 *            stay in the caches, so that what their loads from L2 cost shows (outputs wrong: timing only). At
 *            k = 384 a row block's activations and a column block's weights are 12 KiB each (int8), all in L1;
 *   1x2-db-none blocks of 16 rows x 32 columns, two sums, and the operands double-buffered (activation tile 2 or 3,
 *            weight tiles 4-5 or 6-7 by turns): every load goes to a tile whose readers were issued a whole k-block
 *            earlier, at the price of 3 loads per 2 products (no epilogue);
 *   rows-outer the loops swapped: each row block's activations (plain loads, 36 KiB at k = 1152: most of L1) against
 *            every column block in turn, the weights streaming by TILELOADDT1 (the sequential stream that the caches'
 *            prefetchers follow best), the sliced epilogue as the product's;
 *   zero-only / chain  none with less tile work at the block boundaries, to weigh it: zero-only zeroes every
 *            block's sums but never stores them; chain zeroes them once per call and lets every block add onto the
 *            last (no store, no zeroing between blocks; outputs wrong: timing only);
 *   kchunk-* whole / none with k cut into chunks of KCHUNK k-blocks: the chunk of a column block's weights (32 KiB)
 *            stays in L1 while every row block passes it, the partial sums going to memory between chunks. Without
 *            chunks the whole column block (32 columns x k: 72 KiB for BF16 at k = 1152, 144 KiB for int8 at
 *            k = 4608) outgrows L1, and each k-block's four tile loads come from L2.
 * int8 (tdpbsud) and bf16 (tdpbf16ps), 1 and 2 threads splitting the columns; GOP/s and the ratio to the tile-only
 * ceiling measured in the same run. The ceiling is the product's register-only loop (vq_amx_*_peak: operand tiles of
 * zeros); the line before the variants also gives the same loop on operand tiles of random values, in case the units'
 * speed depends on the data. Build and run with dev/amx/run (Linux, x86-64, AMX for the timings; with VQ_AMX_EMULATE it
 * only checks that the variants agree).
 */
#define _GNU_SOURCE
#include "kernels_amx.c"
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* One thread's GEMM: the product's argument structs, and what the lab's sources need. */
typedef struct {
    vq_gemm_args i8;
    vq_bf16_gemm_args b16;
    int bf16, kblocks;
    const uint8_t *atiles;   /* the activations as contiguous 1 KiB tiles (a-tiles-*), or NULL: packed per call */
} lab_args;

static void lab_panel_source(const void *op, int c0, int last_col, b_source *out) {
    const lab_args *a = (const lab_args *)op;
    if (a->bf16) bf16_source(&a->b16, c0, last_col, out);
    else w8_source(&a->i8, c0, last_col, out);
}

/* group g's k-block s at (g * kblocks + s) KiB */
static void lab_tile_source(const void *op, int c0, int last_col, b_source *out) {
    const lab_args *a = (const lab_args *)op;
    const uint8_t *w = a->bf16 ? (const uint8_t *)a->b16.w : a->i8.w;
    int g[2];
    block_groups(c0, last_col, &g[0], &g[1]);
    for (int j = 0; j < 2; j++) {
        out->b[j] = w + (size_t)g[j] * a->kblocks * TILE_BYTES;
        out->tail[j] = NULL;
    }
    out->stride = 64;
    out->kstep = TILE_BYTES;
}

enum { EPI_NONE, EPI_WHOLE, EPI_ROWS, EPI_UNIFORM_ZERO, EPI_CVT_ONLY };

/*
 * The int8 epilogue with the loops swapped (EPI_ROWS), its zero-point correction one integer per row
 * (EPI_UNIFORM_ZERO: right only when every column's zero point is wz[0]), or only conversion and store (EPI_CVT_ONLY).
 */
ALWAYS_INLINE void lab_int_epilogue(const int EPI, const vq_gemm_args *a, const uint32_t *acc, block_pos p) {
    __m512i wz[2];
    __m512 ws[2], bias[2];
    __mmask16 m[2];
    int halves = p.nc > 16 ? 2 : 1;
    for (int v = 0; v < halves; v++) {
        int c = p.c0 + 16 * v;
        m[v] = tail_mask(p.nc - 16 * v);
        wz[v] = _mm512_loadu_si512(a->wz + c);
        ws[v] = _mm512_loadu_ps(a->ws + c);
        bias[v] = a->bias ? _mm512_maskz_loadu_ps(m[v], a->bias + c) : _mm512_setzero_ps();
    }
    for (int r = 0; r < p.mr; r++) {
        int row = p.r0 + r;
        int32_t qsum = a->qsum[(int64_t)row * a->groups];
        __m512i q = _mm512_set1_epi32(qsum), zq = _mm512_set1_epi32(a->wz[p.c0] * qsum);
        __m512 sx = _mm512_set1_ps(a->sx[row]);
        for (int v = 0; v < halves; v++) {
            __m512i sum = _mm512_loadu_si512(acc + r * BLOCK + 16 * v);
            __m512 o;
            if (EPI == EPI_CVT_ONLY) {
                o = _mm512_cvtepi32_ps(sum);
            } else {
                __m512i corr = EPI == EPI_UNIFORM_ZERO ? zq : _mm512_mullo_epi32(wz[v], q);
                o = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(sum, corr)), ws[v]), sx);
                if (a->bias) o = _mm512_add_ps(o, bias[v]);
            }
            _mm512_mask_storeu_ps(a->out + row * a->ldo + p.c0 + 16 * v, m[v], o);
        }
    }
}

/* A finished block's epilogue as EPI says (EPI_NONE: nothing). */
ALWAYS_INLINE void lab_epilogue(const int BF16, const int EPI, const lab_args *la, const uint32_t *acc, block_pos p) {
    if (EPI == EPI_NONE) return;
    if (BF16) float_epilogue_rows(&la->b16, acc, p, 0, p.mr);
    else if (EPI == EPI_WHOLE) int_epilogue_rows(&la->i8, acc, p, 0, p.mr);
    else lab_int_epilogue(EPI, &la->i8, acc, p);
}

/* The lab drivers' finished blocks: two accumulator buffers by turns, the epilogue one block behind. */
typedef struct {
    uint32_t acc[2][BLOCK * BLOCK] __attribute__((aligned(64)));
    block_pos prev;
    int parity, pending;
} lab_window;

/* The block at (r0, c0) is on the tiles: the previous block's epilogue, then this one's sums into memory. */
ALWAYS_INLINE void lab_block_done(const int BF16, const int EPI, const lab_args *la, lab_window *w, int r0, int c0, int col1) {
    if (w->pending) lab_epilogue(BF16, EPI, la, w->acc[w->parity ^ 1], w->prev);
    block_store(w->acc[w->parity]);
    w->prev = (block_pos){r0, BLOCK, c0, col1 - c0 < BLOCK ? col1 - c0 : BLOCK};
    w->parity ^= 1;
    w->pending = 1;
}

ALWAYS_INLINE void lab_last_epilogue(const int BF16, const int EPI, const lab_args *la, lab_window *w) {
    if (w->pending) lab_epilogue(BF16, EPI, la, w->acc[w->parity ^ 1], w->prev);
}

/* The driver before the sliced epilogue: each block's epilogue (EPI_*) whole, after the next block's dot products. */
ALWAYS_INLINE void lab_driver(const int BF16, const int EPI, const gemm_plan *g) {
    const lab_args *la = (const lab_args *)g->op;
    lab_window w = {.pending = 0, .parity = 0};
    pending_block none = {NULL, {0, 0, 0, 0}, 0};
    vq_tiles_full();
    for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
        b_source b;
        g->source(g->op, c0, g->col1, &b);
        b.kblocks = g->kblocks;
        for (int r0 = 0; r0 < g->rows; r0 += BLOCK) {   /* rows: a multiple of 32 here */
            block_product(BF16, g->a + (int64_t)r0 * g->lda, g->lda, &b, NULL, &none);
            lab_block_done(BF16, EPI, la, &w, r0, c0, g->col1);
        }
    }
    lab_last_epilogue(BF16, EPI, la, &w);
    VQ_TILE_RELEASE();
}

/* k-blocks per chunk (2 B tiles each, 16 of them 32 KiB); LAB_KCHUNK=N sets it */
static int KCHUNK = 16;

/*
 * The driver with k in chunks: per column block, per chunk of k-blocks, every row block (tiles reloaded from and
 * stored to its partial sums); the epilogue (EPI 1) of a block right after its last chunk. Rows: a multiple of 32.
 * The sums are those of the product in the same order, so the outputs are the same bit for bit.
 */
ALWAYS_INLINE void lab_kchunk_driver(const int BF16, const int EPI, const gemm_plan *g) {
    const lab_args *la = (const lab_args *)g->op;
    uint32_t *part = (uint32_t *)vq_thread_buffer(VQ_SCRATCH_A_TAIL, (size_t)g->rows * BLOCK * 4);
    vq_tiles_full();
    for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
        b_source b;
        g->source(g->op, c0, g->col1, &b);
        block_pos p = {0, BLOCK, c0, g->col1 - c0 < BLOCK ? g->col1 - c0 : BLOCK};
        for (int k0 = 0; k0 < g->kblocks; k0 += KCHUNK) {
            int k1 = k0 + KCHUNK < g->kblocks ? k0 + KCHUNK : g->kblocks;
            for (int r0 = 0; r0 < g->rows; r0 += BLOCK) {
                uint32_t *acc = part + (size_t)r0 * BLOCK;
                const uint8_t *a = g->a + (int64_t)r0 * g->lda;
                if (k0 == 0) {
                    VQ_TILE_ZERO(0);
                    VQ_TILE_ZERO(1);
                    VQ_TILE_ZERO(2);
                    VQ_TILE_ZERO(3);
                } else {
                    VQ_TILE_LOAD(0, acc, 4 * BLOCK);
                    VQ_TILE_LOAD(1, acc + 16, 4 * BLOCK);
                    VQ_TILE_LOAD(2, acc + 16 * BLOCK, 4 * BLOCK);
                    VQ_TILE_LOAD(3, acc + 16 * BLOCK + 16, 4 * BLOCK);
                }
                for (int s = k0; s < k1; s++) {
                    if (BF16) KBLOCK(VQ_TILE_DPBF16PS, a + 64 * s, g->lda, b.b[0] + s * b.kstep, b.b[1] + s * b.kstep, b.stride);
                    else KBLOCK(VQ_TILE_DPBSUD, a + 64 * s, g->lda, b.b[0] + s * b.kstep, b.b[1] + s * b.kstep, b.stride);
                }
                block_store(acc);
                if (EPI && k1 == g->kblocks) {
                    p.r0 = r0;
                    if (BF16) float_epilogue_rows(&la->b16, acc, p, 0, BLOCK);
                    else int_epilogue_rows(&la->i8, acc, p, 0, BLOCK);
                }
            }
        }
    }
    VQ_TILE_RELEASE();
}

/* Row tile rb (16 rows), k-block s of the activations at (rb * kblocks + s) KiB. */
static void pack_a_tiles(const uint8_t *a, int64_t lda, int rows, int kblocks, uint8_t *at) {
    for (int rb = 0; rb < rows / 16; rb++)
        for (int s = 0; s < kblocks; s++)
            for (int r = 0; r < 16; r++)
                memcpy(at + ((size_t)rb * kblocks + s) * TILE_BYTES + 64 * r, a + (int64_t)(16 * rb + r) * lda + 64 * s, 64);
}

/* lab_driver with the activations' tiles contiguous (la->atiles, or packed here first). Rows: a multiple of 32. */
ALWAYS_INLINE void lab_atile_driver(const int BF16, const int EPI, const gemm_plan *g) {
    const lab_args *la = (const lab_args *)g->op;
    const int kb = g->kblocks;
    const uint8_t *at = la->atiles;
    if (!at) {
        uint8_t *buf = (uint8_t *)vq_thread_buffer(VQ_SCRATCH_A_TAIL, (size_t)g->rows * kb * 64);
        pack_a_tiles(g->a, g->lda, g->rows, kb, buf);
        at = buf;
    }
    lab_window w = {.pending = 0, .parity = 0};
    vq_tiles_full();
    for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
        b_source b;
        g->source(g->op, c0, g->col1, &b);
        for (int r0 = 0; r0 < g->rows; r0 += BLOCK) {
            const uint8_t *a0 = at + (size_t)(r0 / 16) * kb * TILE_BYTES, *a1 = a0 + (size_t)kb * TILE_BYTES;
            VQ_TILE_ZERO(0);
            VQ_TILE_ZERO(1);
            VQ_TILE_ZERO(2);
            VQ_TILE_ZERO(3);
            for (int s = 0; s < kb; s++) {
                VQ_TILE_LOAD(4, a0 + (size_t)s * TILE_BYTES, 64);
                VQ_TILE_LOAD(6, b.b[0] + s * b.kstep, b.stride);
                if (BF16) VQ_TILE_DPBF16PS(0, 4, 6); else VQ_TILE_DPBSUD(0, 4, 6);
                VQ_TILE_LOAD(7, b.b[1] + s * b.kstep, b.stride);
                if (BF16) VQ_TILE_DPBF16PS(1, 4, 7); else VQ_TILE_DPBSUD(1, 4, 7);
                VQ_TILE_LOAD(5, a1 + (size_t)s * TILE_BYTES, 64);
                if (BF16) { VQ_TILE_DPBF16PS(2, 5, 6); VQ_TILE_DPBF16PS(3, 5, 7); }
                else { VQ_TILE_DPBSUD(2, 5, 6); VQ_TILE_DPBSUD(3, 5, 7); }
            }
            lab_block_done(BF16, EPI, la, &w, r0, c0, g->col1);
        }
    }
    lab_last_epilogue(BF16, EPI, la, &w);
    VQ_TILE_RELEASE();
}

/* One k-block of a 1 x 3 block: activation tile A (3 or 4), weight tiles 5-7 from the panel's three groups. */
#define KBLOCK_1X3(DP, A, a, lda, b, bstride)         \
    do {                                              \
        VQ_TILE_LOAD(A, (a), (lda));                  \
        VQ_TILE_LOAD(5, (b), (bstride));              \
        DP(0, A, 5);                                  \
        VQ_TILE_LOAD(6, (b) + 64, (bstride));         \
        DP(1, A, 6);                                  \
        VQ_TILE_LOAD(7, (b) + 128, (bstride));        \
        DP(2, A, 7);                                  \
    } while (0)

/* The epilogue of a 16 x 48 block stored as [16][32] (columns 0-31) and [16][32] (columns 32-47). */
ALWAYS_INLINE void lab_epilogue_1x3(const int BF16, const int EPI, const lab_args *la, const uint32_t *acc, int r0, int c0, int col1) {
    for (int h = 0; h < 2 && c0 + 32 * h < col1; h++) {
        int nc = col1 - c0 - 32 * h < 32 - 16 * h ? col1 - c0 - 32 * h : 32 - 16 * h;
        lab_epilogue(BF16, EPI, la, acc + h * 16 * BLOCK, (block_pos){r0, 16, c0 + 32 * h, nc});
    }
}

/*
 * Blocks of 16 rows x 48 columns (one weight panel: col0 and the split between threads on panel boundaries), three
 * sums in tiles 0-2; the activation tile in 3 and 4 by turns (TURNS) or always in 3. The epilogue (EPI) of each block
 * whole, after the next block's dot products. Rows: a multiple of 16; k: whole k-blocks.
 */
ALWAYS_INLINE void lab_1x3_driver(const int BF16, const int EPI, const int TURNS, const gemm_plan *g) {
    const lab_args *la = (const lab_args *)g->op;
    size_t panel_bytes = (size_t)VQ_NR * (BF16 ? la->b16.kpad * 2 : la->i8.kpad);
    const uint8_t *w = BF16 ? (const uint8_t *)la->b16.w : la->i8.w;
    const int64_t kstep = 16 * VQ_STEP_BYTES;
    uint32_t acc[2][2 * 16 * BLOCK] __attribute__((aligned(64)));
    int parity = 0, pending = 0, prev_r0 = 0, prev_c0 = 0;
    vq_tiles_full();
    for (int c0 = g->col0; c0 < g->col1; c0 += VQ_NR) {
        const uint8_t *b = w + (size_t)(c0 / VQ_NR) * panel_bytes;
        for (int r0 = 0; r0 < g->rows; r0 += 16) {
            const uint8_t *a = g->a + (int64_t)r0 * g->lda;
            VQ_TILE_ZERO(0);
            VQ_TILE_ZERO(1);
            VQ_TILE_ZERO(2);
            for (int s = 0; s < g->kblocks; s++) {
                const uint8_t *as = a + 64 * s, *bs = b + s * kstep;
                if (TURNS && (s & 1)) {
                    if (BF16) KBLOCK_1X3(VQ_TILE_DPBF16PS, 4, as, g->lda, bs, VQ_STEP_BYTES);
                    else KBLOCK_1X3(VQ_TILE_DPBSUD, 4, as, g->lda, bs, VQ_STEP_BYTES);
                } else {
                    if (BF16) KBLOCK_1X3(VQ_TILE_DPBF16PS, 3, as, g->lda, bs, VQ_STEP_BYTES);
                    else KBLOCK_1X3(VQ_TILE_DPBSUD, 3, as, g->lda, bs, VQ_STEP_BYTES);
                }
            }
            if (pending) lab_epilogue_1x3(BF16, EPI, la, acc[parity ^ 1], prev_r0, prev_c0, g->col1);
            VQ_TILE_STORE(0, acc[parity], 4 * BLOCK);
            VQ_TILE_STORE(1, acc[parity] + 16, 4 * BLOCK);
            VQ_TILE_STORE(2, acc[parity] + 16 * BLOCK, 4 * BLOCK);
            prev_r0 = r0;
            prev_c0 = c0;
            parity ^= 1;
            pending = 1;
        }
    }
    if (pending) lab_epilogue_1x3(BF16, EPI, la, acc[parity ^ 1], prev_r0, prev_c0, g->col1);
    VQ_TILE_RELEASE();
}


/* One k-block of a 1 x 2 block: activation tile TA, weight tiles TB0 and TB1, sums in tiles 0 and 1. */
#define KBLOCK_1X2(DP, TA, TB0, TB1, a, lda, b0, b1, bstride)   \
    do {                                                         \
        VQ_TILE_LOAD_T1(TA, (a), (lda));                         \
        VQ_TILE_LOAD(TB0, (b0), (bstride));                      \
        DP(0, TA, TB0);                                          \
        VQ_TILE_LOAD(TB1, (b1), (bstride));                      \
        DP(1, TA, TB1);                                          \
    } while (0)

/* 1x2-db-none: the 1 x 2 blocks with both operands by turns; rows a multiple of 16, whole k-blocks; sums stored only. */
ALWAYS_INLINE void lab_1x2_driver(const int BF16, const gemm_plan *g) {
    uint32_t acc[16 * BLOCK] __attribute__((aligned(64)));
    vq_tiles_full();
    for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
        b_source b;
        g->source(g->op, c0, g->col1, &b);
        for (int r0 = 0; r0 < g->rows; r0 += 16) {
            const uint8_t *a = g->a + (int64_t)r0 * g->lda;
            VQ_TILE_ZERO(0);
            VQ_TILE_ZERO(1);
            for (int s = 0; s < g->kblocks; s += 2) {
                const uint8_t *b0 = b.b[0] + s * b.kstep, *b1 = b.b[1] + s * b.kstep;
                if (BF16) KBLOCK_1X2(VQ_TILE_DPBF16PS, 2, 4, 5, a + 64 * s, g->lda, b0, b1, b.stride);
                else KBLOCK_1X2(VQ_TILE_DPBSUD, 2, 4, 5, a + 64 * s, g->lda, b0, b1, b.stride);
                if (s + 1 == g->kblocks) break;
                if (BF16) KBLOCK_1X2(VQ_TILE_DPBF16PS, 3, 6, 7, a + 64 * (s + 1), g->lda, b0 + b.kstep, b1 + b.kstep, b.stride);
                else KBLOCK_1X2(VQ_TILE_DPBSUD, 3, 6, 7, a + 64 * (s + 1), g->lda, b0 + b.kstep, b1 + b.kstep, b.stride);
            }
            VQ_TILE_STORE(0, acc, 4 * BLOCK);
            VQ_TILE_STORE(1, acc + 16, 4 * BLOCK);
        }
    }
    VQ_TILE_RELEASE();
}

/* ---------------------------------------------------------------- hinted loads and prefetches */

/* HINT_PLAIN: no hint at all (a nonzero H that sets none of the others). */
enum { HINT_A_T1 = 1, HINT_B_T1 = 2, HINT_PF_A = 4, HINT_PF_B = 8, HINT_PLAIN = 16 };
#define PF_DIST 2   /* k-blocks ahead */
#define LAB_LOAD(T1, t, base, stride)                   \
    do {                                                \
        if (T1) VQ_TILE_LOAD_T1(t, base, stride);       \
        else VQ_TILE_LOAD(t, base, stride);             \
    } while (0)
#define LAB_DP(BF16, c, a, b)                           \
    do {                                                \
        if (BF16) VQ_TILE_DPBF16PS(c, a, b);            \
        else VQ_TILE_DPBSUD(c, a, b);                   \
    } while (0)

ALWAYS_INLINE void prefetch_rows(const uint8_t *p, int64_t stride, int rows) {
    for (int r = 0; r < rows; r++) _mm_prefetch((const char *)(p + r * stride), _MM_HINT_T0);
}

/* KBLOCK with the loads H says. */
ALWAYS_INLINE void hint_kblock(const int BF16, const int H, const uint8_t *a, int64_t lda, const uint8_t *b0,
                               const uint8_t *b1, int64_t bstride) {
    LAB_LOAD(H & HINT_A_T1, 4, a, lda);
    LAB_LOAD(H & HINT_B_T1, 6, b0, bstride);
    LAB_DP(BF16, 0, 4, 6);
    LAB_LOAD(H & HINT_B_T1, 7, b1, bstride);
    LAB_DP(BF16, 1, 4, 7);
    LAB_LOAD(H & HINT_A_T1, 5, a + 16 * lda, lda);
    LAB_DP(BF16, 2, 5, 6);
    LAB_DP(BF16, 3, 5, 7);
}

/* block_product with hinted loads and prefetches (H). */
ALWAYS_INLINE void hint_block_product(const int BF16, const int H, const uint8_t *a, int64_t lda, const b_source *b,
                                      const void *op, pending_block *e) {
    VQ_TILE_ZERO(0);
    VQ_TILE_ZERO(1);
    VQ_TILE_ZERO(2);
    VQ_TILE_ZERO(3);
    int full = b->tail[0] ? b->kblocks - 1 : b->kblocks;
    int slice = e->acc ? (e->p.mr + b->kblocks - 1) / b->kblocks : 0;
    const uint8_t *b0 = b->b[0], *b1 = b->b[1];
    for (int s = 0; s < full; s++) {
        if ((H & HINT_PF_A) && s + PF_DIST < full) prefetch_rows(a + 64 * (s + PF_DIST), lda, BLOCK);
        if ((H & HINT_PF_B) && s + PF_DIST < full) {
            prefetch_rows(b0 + (s + PF_DIST) * b->kstep, b->stride, 16);
            prefetch_rows(b1 + (s + PF_DIST) * b->kstep, b->stride, 16);
        }
        hint_kblock(BF16, H, a + 64 * s, lda, b0 + s * b->kstep, b1 + s * b->kstep, b->stride);
        epilogue_until(BF16, op, e, e->done + slice < e->p.mr ? e->done + slice : e->p.mr);
    }
    if (b->tail[0]) hint_kblock(BF16, H, a + 64 * full, lda, b->tail[0], b->tail[1], 64);
    epilogue_until(BF16, op, e, e->p.mr);
}

/*
 * The finished blocks of the drivers with the product's sliced epilogue: two accumulator buffers by turns, the
 * block just finished pending while the next one's products run.
 */
typedef struct {
    uint32_t acc[2][BLOCK * BLOCK] __attribute__((aligned(64)));
    pending_block prev;
    int parity;
} sliced_window;

/* The block at (r0, c0) is on the tiles: its sums into the free buffer, to be the next block's pending epilogue. */
ALWAYS_INLINE void sliced_block_done(sliced_window *w, int r0, int c0, int col1) {
    block_store(w->acc[w->parity]);
    w->prev = (pending_block){w->acc[w->parity], {r0, BLOCK, c0, col1 - c0 < BLOCK ? col1 - c0 : BLOCK}, 0};
    w->parity ^= 1;
}

/* gemm_driver with hint_block_product (the sweeps, the sliced epilogue); rows: a multiple of 32. */
ALWAYS_INLINE void lab_hint_driver(const int BF16, const int H, const gemm_plan *g) {
    int sweep = (int)(A_RESIDENT_BYTES / g->lda) / BLOCK * BLOCK;
    if (sweep < BLOCK) sweep = BLOCK;
    sliced_window w = {.prev = {NULL, {0, 0, 0, 0}, 0}, .parity = 0};
    vq_tiles_full();
    for (int m0 = 0; m0 < g->rows; m0 += sweep) {
        int m1 = m0 + sweep < g->rows ? m0 + sweep : g->rows;
        for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
            b_source b;
            g->source(g->op, c0, g->col1, &b);
            b.kblocks = g->kblocks;
            for (int r0 = m0; r0 < m1; r0 += BLOCK) {
                hint_block_product(BF16, H, g->a + (int64_t)r0 * g->lda, g->lda, &b, g->op, &w.prev);
                sliced_block_done(&w, r0, c0, g->col1);
            }
        }
    }
    epilogue_until(BF16, g->op, &w.prev, w.prev.p.mr);
    VQ_TILE_RELEASE();
}

enum { SAME_A = 1, SAME_B = 2 };

/* gemm_driver (the product's block_product, sweeps and sliced epilogue) with the operands pinned as SAME says. */
ALWAYS_INLINE void lab_same_driver(const int BF16, const int SAME, const gemm_plan *g) {
    int sweep = (int)(A_RESIDENT_BYTES / g->lda) / BLOCK * BLOCK;
    if (sweep < BLOCK) sweep = BLOCK;
    sliced_window w = {.prev = {NULL, {0, 0, 0, 0}, 0}, .parity = 0};
    b_source first;
    g->source(g->op, g->col0, g->col1, &first);
    first.kblocks = g->kblocks;
    vq_tiles_full();
    for (int m0 = 0; m0 < g->rows; m0 += sweep) {
        int m1 = m0 + sweep < g->rows ? m0 + sweep : g->rows;
        for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
            b_source b = first;
            if (!(SAME & SAME_B)) {
                g->source(g->op, c0, g->col1, &b);
                b.kblocks = g->kblocks;
            }
            for (int r0 = m0; r0 < m1; r0 += BLOCK) {
                const uint8_t *a = SAME & SAME_A ? g->a : g->a + (int64_t)r0 * g->lda;
                block_product(BF16, a, g->lda, &b, g->op, &w.prev);
                sliced_block_done(&w, r0, c0, g->col1);
            }
        }
    }
    epilogue_until(BF16, g->op, &w.prev, w.prev.p.mr);
    VQ_TILE_RELEASE();
}

static void same_driver(int bf16, int same, const gemm_plan *g) {
#define SAME_CASE(S) case S: if (bf16) lab_same_driver(1, S, g); else lab_same_driver(0, S, g); break
    switch (same) {
        SAME_CASE(SAME_A);
        SAME_CASE(SAME_B);
        SAME_CASE(SAME_A | SAME_B);
        default: break;
    }
#undef SAME_CASE
}

/* rows-outer: lab_hint_driver's blocks (weights by TILELOADDT1) with the row blocks outside; rows a multiple of 32. */
ALWAYS_INLINE void lab_rows_outer_driver(const int BF16, const gemm_plan *g) {
    sliced_window w = {.prev = {NULL, {0, 0, 0, 0}, 0}, .parity = 0};
    vq_tiles_full();
    for (int r0 = 0; r0 < g->rows; r0 += BLOCK) {
        for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
            b_source b;
            g->source(g->op, c0, g->col1, &b);
            b.kblocks = g->kblocks;
            hint_block_product(BF16, HINT_B_T1, g->a + (int64_t)r0 * g->lda, g->lda, &b, g->op, &w.prev);
            sliced_block_done(&w, r0, c0, g->col1);
        }
    }
    epilogue_until(BF16, g->op, &w.prev, w.prev.p.mr);
    VQ_TILE_RELEASE();
}

/* zero-only (ZERO 1) and chain (ZERO 0): none's blocks without the sums' store, and for chain without their zeroing. */
ALWAYS_INLINE void lab_boundary_driver(const int BF16, const int ZERO, const gemm_plan *g) {
    vq_tiles_full();
    VQ_TILE_ZERO(0);
    VQ_TILE_ZERO(1);
    VQ_TILE_ZERO(2);
    VQ_TILE_ZERO(3);
    for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
        b_source b;
        g->source(g->op, c0, g->col1, &b);
        for (int r0 = 0; r0 < g->rows; r0 += BLOCK) {   /* rows: a multiple of 32 here */
            const uint8_t *a = g->a + (int64_t)r0 * g->lda;
            if (ZERO) {
                VQ_TILE_ZERO(0);
                VQ_TILE_ZERO(1);
                VQ_TILE_ZERO(2);
                VQ_TILE_ZERO(3);
            }
            for (int s = 0; s < g->kblocks; s++) {
                if (BF16) KBLOCK(VQ_TILE_DPBF16PS, a + 64 * s, g->lda, b.b[0] + s * b.kstep, b.b[1] + s * b.kstep, b.stride);
                else KBLOCK(VQ_TILE_DPBSUD, a + 64 * s, g->lda, b.b[0] + s * b.kstep, b.b[1] + s * b.kstep, b.stride);
            }
        }
    }
    uint32_t sink[BLOCK * BLOCK] __attribute__((aligned(64)));
    block_store(sink);   /* the sums leave the tiles once, so that the products are done when the call returns */
    VQ_TILE_RELEASE();
}

/* The hint variants' H (0: not one). */
static int variant_hints(int variant);

/* lab_hint_driver for H known only at run time: the combinations the variants use. */
static void hint_driver(int bf16, int h, const gemm_plan *g) {
#define HINT_CASE(H) case H: if (bf16) lab_hint_driver(1, H, g); else lab_hint_driver(0, H, g); break
    switch (h) {
        HINT_CASE(HINT_PLAIN);
        HINT_CASE(HINT_A_T1);
        HINT_CASE(HINT_B_T1);
        HINT_CASE(HINT_A_T1 | HINT_B_T1);
        HINT_CASE(HINT_PF_A);
        HINT_CASE(HINT_PF_A | HINT_PF_B);
        HINT_CASE(HINT_A_T1 | HINT_PF_B);
        default: break;
    }
#undef HINT_CASE
}

enum { PRODUCT, WHOLE, NONE, ROWS, UNIFORM_ZERO, CVT_ONLY, TILES_WHOLE, TILES_NONE, KCHUNK_WHOLE, KCHUNK_NONE,
       A_TILES_WHOLE, A_TILES_NONE, A_TILES_PACK, AB_TILES_NONE, B1X3_WHOLE, B1X3_NONE, B1X3_SINGLE_NONE,
       PLAIN, A_T1, B_T1, AB_T1, PF_A, PF_AB, A_T1_PF_B, SAME_A_V, SAME_B_V, SAME_AB_V, B1X2_DB_NONE, ROWS_OUTER, ZERO_ONLY, CHAIN, VARIANTS };
static const char *const VARIANT_NAMES[] = {"product", "whole", "none", "rows", "uniform-zero", "cvt-only",
                                            "tiles-whole", "tiles-none", "kchunk-whole", "kchunk-none",
                                            "a-tiles-whole", "a-tiles-none", "a-tiles-pack", "ab-tiles-none",
                                            "1x3-whole", "1x3-none", "1x3-single-none",
                                            "plain", "a-t1", "b-t1", "ab-t1", "pf-a", "pf-ab", "a-t1-pf-b",
                                            "same-a", "same-b", "same-ab", "1x2-db-none", "rows-outer",
                                            "zero-only", "chain"};

static int variant_hints(int variant) {
    switch (variant) {
        case PLAIN: return HINT_PLAIN;
        case A_T1: return HINT_A_T1;
        case B_T1: return HINT_B_T1;
        case AB_T1: return HINT_A_T1 | HINT_B_T1;
        case PF_A: return HINT_PF_A;
        case PF_AB: return HINT_PF_A | HINT_PF_B;
        case A_T1_PF_B: return HINT_A_T1 | HINT_PF_B;
        default: return 0;
    }
}

/* Variants that run on the product's argument structs and weight sources. */
static int product_args(int variant) {
    return variant == PRODUCT || variant_hints(variant) || variant == SAME_A_V || variant == SAME_B_V || variant == SAME_AB_V
           || variant == ROWS_OUTER;
}

/* Variants whose threads split the columns on 48-column panels. */
static int panel_split(int variant) {
    return variant == B1X3_WHOLE || variant == B1X3_NONE || variant == B1X3_SINGLE_NONE;
}
/* The int8-only epilogue variants (BF16 skips them). */
static int int8_only(int variant) {
    return variant == ROWS || variant == UNIFORM_ZERO || variant == CVT_ONLY;
}

typedef struct {
    lab_args args;
    gemm_plan plan;
    int variant;
} job;

static void *run_job(void *v) {
    job *j = (job *)v;
    int bf16 = j->args.bf16;
    j->plan.op = product_args(j->variant) ? (bf16 ? (const void *)&j->args.b16 : (const void *)&j->args.i8) : (const void *)&j->args;
    switch (j->variant) {
        case PRODUCT: gemm_driver(bf16, &j->plan); break;   /* 0 or 1: the product's own instantiations */
        case WHOLE: case TILES_WHOLE: if (bf16) lab_driver(1, EPI_WHOLE, &j->plan); else lab_driver(0, EPI_WHOLE, &j->plan); break;
        case ROWS: lab_driver(0, EPI_ROWS, &j->plan); break;
        case UNIFORM_ZERO: lab_driver(0, EPI_UNIFORM_ZERO, &j->plan); break;
        case CVT_ONLY: lab_driver(0, EPI_CVT_ONLY, &j->plan); break;
        case KCHUNK_WHOLE: if (bf16) lab_kchunk_driver(1, 1, &j->plan); else lab_kchunk_driver(0, 1, &j->plan); break;
        case KCHUNK_NONE: if (bf16) lab_kchunk_driver(1, 0, &j->plan); else lab_kchunk_driver(0, 0, &j->plan); break;
        case A_TILES_WHOLE: case A_TILES_PACK:
            if (bf16) lab_atile_driver(1, EPI_WHOLE, &j->plan); else lab_atile_driver(0, EPI_WHOLE, &j->plan);
            break;
        case A_TILES_NONE: case AB_TILES_NONE:
            if (bf16) lab_atile_driver(1, EPI_NONE, &j->plan); else lab_atile_driver(0, EPI_NONE, &j->plan);
            break;
        case B1X3_WHOLE: if (bf16) lab_1x3_driver(1, EPI_WHOLE, 1, &j->plan); else lab_1x3_driver(0, EPI_WHOLE, 1, &j->plan); break;
        case B1X3_NONE: if (bf16) lab_1x3_driver(1, EPI_NONE, 1, &j->plan); else lab_1x3_driver(0, EPI_NONE, 1, &j->plan); break;
        case B1X3_SINGLE_NONE: if (bf16) lab_1x3_driver(1, EPI_NONE, 0, &j->plan); else lab_1x3_driver(0, EPI_NONE, 0, &j->plan); break;
        case A_T1: case B_T1: case AB_T1: case PF_A: case PF_AB: case A_T1_PF_B:
            hint_driver(bf16, variant_hints(j->variant), &j->plan);
            break;
        case SAME_A_V: same_driver(bf16, SAME_A, &j->plan); break;
        case SAME_B_V: same_driver(bf16, SAME_B, &j->plan); break;
        case SAME_AB_V: same_driver(bf16, SAME_A | SAME_B, &j->plan); break;
        case ROWS_OUTER: if (bf16) lab_rows_outer_driver(1, &j->plan); else lab_rows_outer_driver(0, &j->plan); break;
        case B1X2_DB_NONE: if (bf16) lab_1x2_driver(1, &j->plan); else lab_1x2_driver(0, &j->plan); break;
        case ZERO_ONLY: if (bf16) lab_boundary_driver(1, 1, &j->plan); else lab_boundary_driver(0, 1, &j->plan); break;
        case CHAIN: if (bf16) lab_boundary_driver(1, 0, &j->plan); else lab_boundary_driver(0, 0, &j->plan); break;
        default: if (bf16) lab_driver(1, EPI_NONE, &j->plan); else lab_driver(0, EPI_NONE, &j->plan); break;
    }
    return NULL;
}

typedef struct {
    int m, k, n, bf16;
    const uint8_t *a, *panels, *tiles, *atiles;
    float *out;
    const float *sx, *ws;
    const int32_t *qsum, *wz;
} problem;

static void gemm(const problem *p, int variant, int threads) {
    job jobs[16];
    pthread_t th[16];
    int kb = p->bf16 ? p->k / 32 : p->k / 64;
    int tiles = variant == TILES_WHOLE || variant == TILES_NONE || variant == AB_TILES_NONE;
    const uint8_t *w = tiles ? p->tiles : p->panels;
    for (int t = 0; t < threads; t++) {
        int unit = panel_split(variant) ? VQ_NR : 32;
        int c0 = p->n / unit * t / threads * unit, c1 = t == threads - 1 ? p->n : p->n / unit * (t + 1) / threads * unit;
        job *j = &jobs[t];
        memset(j, 0, sizeof *j);
        j->variant = variant;
        j->args.bf16 = p->bf16;
        j->args.kblocks = kb;
        j->args.atiles = variant == A_TILES_PACK ? NULL : p->atiles;
        j->args.i8 = (vq_gemm_args){.q = (const int8_t *)p->a, .ldq = p->k, .sx = p->sx, .qsum = p->qsum, .rows = p->m,
                                    .w = w, .kpad = p->k, .npad = p->n, .group_steps = p->k / 4, .groups = 1,
                                    .ws = p->ws, .wz = p->wz, .bias = NULL, .n = p->n, .col0 = c0, .col1 = c1,
                                    .out = p->out, .ldo = p->n};
        j->args.b16 = (vq_bf16_gemm_args){.a = (const uint16_t *)p->a, .lda = p->k, .rows = p->m, .w = (const uint16_t *)w,
                                          .kpad = p->k, .bias = NULL, .n = p->n, .col0 = c0, .col1 = c1, .out = p->out,
                                          .ldo = p->n};
        j->plan = (gemm_plan){p->a, p->bf16 ? 2 * p->k : p->k, p->m, c0, c1, kb,
                              tiles ? lab_tile_source : product_args(variant) ? (p->bf16 ? bf16_source : w8_source) : lab_panel_source,
                              NULL};
    }
    for (int t = 1; t < threads; t++) pthread_create(&th[t], NULL, run_job, &jobs[t]);
    run_job(&jobs[0]);
    for (int t = 1; t < threads; t++) pthread_join(th[t], NULL);
}

/* The weights in the tile layout from the panel layout: group g, k-block s, row r = panel g / 3, step 16 s + r. */
static void to_tiles(const uint8_t *panels, uint8_t *tiles, int k, int n, int bf16) {
    int steps = bf16 ? k / 2 : k / 4, kb = steps / 16;
    size_t panel_bytes = (size_t)VQ_NR * k * (bf16 ? 2 : 1);
    for (int g = 0; g < n / 16; g++)
        for (int s = 0; s < kb; s++)
            for (int r = 0; r < 16; r++)
                memcpy(tiles + ((size_t)g * kb + s) * TILE_BYTES + 64 * r,
                       panel_group(panels, panel_bytes, g) + (size_t)(16 * s + r) * VQ_STEP_BYTES, 64);
}

static problem make_problem(int m, int k, int n, int bf16) {
    size_t ab = (size_t)m * k * (bf16 ? 2 : 1), wb = (size_t)(n + VQ_NR) * k * (bf16 ? 2 : 1);
    uint8_t *a = aligned_alloc(64, (ab + 63) / 64 * 64), *w = aligned_alloc(64, (wb + 63) / 64 * 64);
    uint8_t *t = aligned_alloc(64, (wb + 63) / 64 * 64);
    /* a hash of the index, so that no two rows are alike (a multiple of 256 as the row length would repeat i * 13) */
    for (size_t i = 0; i < ab; i++) {
        uint8_t h = (uint8_t)((uint32_t)(i * 2654435761u) >> 24);
        a[i] = bf16 ? (i & 1 ? 0x3f : h) : h;
    }
    for (size_t i = 0; i < wb; i++) w[i] = bf16 ? (i & 1 ? 0x3c : (uint8_t)(i * 5)) : (uint8_t)(i * 11 + 3);
    to_tiles(w, t, k, n, bf16);
    float *sx = malloc(sizeof(float) * m), *ws = malloc(sizeof(float) * (n + 64));
    int32_t *qsum = malloc(sizeof(int32_t) * m), *wz = malloc(sizeof(int32_t) * (n + 64));
    for (int i = 0; i < m; i++) { sx[i] = 0.01f; qsum[i] = i; }
    for (int i = 0; i < n + 64; i++) { ws[i] = 0.02f; wz[i] = 128; }
    int kb = bf16 ? k / 32 : k / 64;
    uint8_t *at = aligned_alloc(64, (size_t)m * kb * 64 + 64);
    pack_a_tiles(a, bf16 ? 2 * k : k, m, kb, at);
    return (problem){m, k, n, bf16, a, w, t, at, aligned_alloc(64, sizeof(float) * m * n), sx, ws, qsum, wz};
}

/* product, whole, kchunk-whole, rows, uniform-zero, a-tiles-whole / -pack, 1x3-whole and the hint variants write the same outputs, from either layout (a check of the lab,
 * not of the product);
 * k = 1280: more than one chunk and a partial last one for both kinds. */
static int verify(void) {
    int bad = 0;
    for (int bf16 = 0; bf16 <= 1; bf16++) {
        problem p = make_problem(64, 1280, 96, bf16);
        float *first = malloc(sizeof(float) * 64 * 96);
        gemm(&p, PRODUCT, 2);
        memcpy(first, p.out, sizeof(float) * 64 * 96);
        static const int checked[] = {WHOLE, TILES_WHOLE, KCHUNK_WHOLE, ROWS, UNIFORM_ZERO, A_TILES_WHOLE, A_TILES_PACK,
                                      B1X3_WHOLE, A_T1, B_T1, AB_T1, PF_A, PF_AB, A_T1_PF_B, ROWS_OUTER};
        for (int c = 0; c < (int)(sizeof checked / sizeof checked[0]); c++) {
            int v = checked[c];
            if (bf16 && int8_only(v)) continue;
            memset(p.out, 0, sizeof(float) * 64 * 96);
            gemm(&p, v, 2);
            for (int i = 0; i < 64 * 96; i++) bad += p.out[i] != first[i];
        }
        printf("verify %s: %d outputs differ\n", bf16 ? "bf16" : "int8", bad);
        fflush(stdout);
    }
    return bad;
}

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

typedef struct {
    int bf16, random;
    double secs;
} peak_job;

/* Four operand tiles of random values: int8 bytes, or bf16 of either sign, exponents 2^-7 .. 2^-1, random mantissas. */
static const uint8_t *random_operands(int bf16) {
    static uint8_t tiles[2][4 * TILE_BYTES] __attribute__((aligned(64)));
    static int ready[2];
    if (!ready[bf16]) {
        uint32_t x = 12345;
        for (int i = 0; i < 4 * TILE_BYTES; i += 2) {
            x = x * 1664525u + 1013904223u;
            uint16_t r = (uint16_t)(x >> 16);
            uint16_t v = bf16 ? (uint16_t)((r & 0x8000) | (120 + (r >> 7) % 7) << 7 | (r & 0x7F)) : r;
            memcpy(tiles[bf16] + i, &v, 2);
        }
        ready[bf16] = 1;
    }
    return tiles[bf16];
}

/* vq_amx_*_peak's loop on the operand tiles at t (four of them, 1 KiB apart): iters * 4 products. */
static int64_t peak_on(int bf16, const uint8_t *t, int64_t iters) {
    vq_tiles_full();
    VQ_TILE_LOAD(4, t, 64);
    VQ_TILE_LOAD(5, t + TILE_BYTES, 64);
    VQ_TILE_LOAD(6, t + 2 * TILE_BYTES, 64);
    VQ_TILE_LOAD(7, t + 3 * TILE_BYTES, 64);
    VQ_TILE_ZERO(0);
    VQ_TILE_ZERO(1);
    VQ_TILE_ZERO(2);
    VQ_TILE_ZERO(3);
    for (int64_t i = 0; i < iters; i++) {
        if (bf16) {
            VQ_TILE_DPBF16PS(0, 4, 6);
            VQ_TILE_DPBF16PS(1, 4, 7);
            VQ_TILE_DPBF16PS(2, 5, 6);
            VQ_TILE_DPBF16PS(3, 5, 7);
        } else {
            VQ_TILE_DPBSUD(0, 4, 6);
            VQ_TILE_DPBSUD(1, 4, 7);
            VQ_TILE_DPBSUD(2, 5, 6);
            VQ_TILE_DPBSUD(3, 5, 7);
        }
    }
    int32_t out[16 * 16] __attribute__((aligned(64)));
    VQ_TILE_STORE(0, out, 64);
    VQ_TILE_RELEASE();
    return out[0];
}

static void *run_peak(void *v) {
    peak_job *p = (peak_job *)v;
    double t0 = now();
    if (p->random) peak_on(p->bf16, random_operands(p->bf16), 2000000);
    else if (p->bf16) vq_amx_bf16_peak(2000000);
    else vq_amx_int8_peak(2000000);
    p->secs = now() - t0;
    return NULL;
}

/* ops per second of `threads` concurrent tile-only loops (operands zero, or random), best of 5 */
static double peak(int bf16, int random, int threads) {
    random_operands(bf16);   /* filled before any thread reads them */
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        peak_job jobs[16];
        pthread_t th[16];
        for (int t = 0; t < threads; t++) jobs[t] = (peak_job){bf16, random, 0};
        for (int t = 1; t < threads; t++) pthread_create(&th[t], NULL, run_peak, &jobs[t]);
        run_peak(&jobs[0]);
        for (int t = 1; t < threads; t++) pthread_join(th[t], NULL);
        double worst = 0;
        for (int t = 0; t < threads; t++) worst = jobs[t].secs > worst ? jobs[t].secs : worst;
        double ops = threads * 2000000.0 * 4 * (bf16 ? 16384.0 : 32768.0) / worst;
        best = ops > best ? ops : best;
    }
    return best;
}

/* LAB_VARIANTS="product,rows,..." runs only those (default: all). */
static int selected(int variant) {
    const char *list = getenv("LAB_VARIANTS");
    if (!list) return 1;
    size_t n = strlen(VARIANT_NAMES[variant]);
    for (const char *p = list; (p = strstr(p, VARIANT_NAMES[variant])) != NULL; p += n) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    }
    return 0;
}

/*
 * LAB_SHAPES="512x384x1152,512x1152x1152" (M x K x N; M a multiple of 32, K of 64, N of 48) replaces the default
 * shapes; returns how many there are.
 */
static int lab_shapes(int shapes[16][3], int defaults) {
    const char *list = getenv("LAB_SHAPES");
    if (!list) return defaults;
    int n = 0;
    for (const char *p = list; n < 16 && *p;) {
        int m, k, c, used = 0;
        if (sscanf(p, "%dx%dx%d%n", &m, &k, &c, &used) != 3 || m % 32 || k % 64 || c % 48 || m <= 0 || k <= 0 || c <= 0) {
            fprintf(stderr, "LAB_SHAPES: bad shape at '%s' (M x K x N, M a multiple of 32, K of 64, N of 48)\n", p);
            exit(2);
        }
        shapes[n][0] = m; shapes[n][1] = k; shapes[n][2] = c;
        n++;
        p += used;
        if (*p == ',') p++;
    }
    return n;
}

/*
 * On SIGILL, where: the faulting address as an offset into its binary (objdump -d --start-address of that offset
 * on the same build names the instruction). Some hosts stopped the lab with SIGILL before its first line.
 */
static void report_sigill(int sig, siginfo_t *info, void *context) {
    (void)context;
    Dl_info where;
    char line[256];
    int n = dladdr(info->si_addr, &where) && where.dli_fname
            ? snprintf(line, sizeof line, "signal %d at %p: %s + 0x%lx (%s)\n", sig, info->si_addr, where.dli_fname,
                       (unsigned long)((char *)info->si_addr - (char *)where.dli_fbase), where.dli_sname ? where.dli_sname : "?")
            : snprintf(line, sizeof line, "signal %d at %p\n", sig, info->si_addr);
    if (write(2, line, n) < 0) _exit(128 + sig);
    _exit(128 + sig);
}

int main(void) {
    struct sigaction on_sigill = {0};
    on_sigill.sa_sigaction = report_sigill;
    on_sigill.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &on_sigill, NULL);
    fprintf(stderr, "gemmlab: started\n");
#ifdef VQ_AMX_EMULATE
    return verify() != 0;
#else
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) != 0) {
        perror("AMX tile data not granted");
        return 1;
    }
    if (getenv("LAB_KCHUNK")) KCHUNK = atoi(getenv("LAB_KCHUNK")) > 0 ? atoi(getenv("LAB_KCHUNK")) : KCHUNK;
    fprintf(stderr, "gemmlab: tile data granted, verifying\n");
    if (verify() != 0) return 1;
    fprintf(stderr, "gemmlab: verified\n");
    int shapes[16][3] = {{1024, 1152, 1152}, {1024, 4608, 1152}, {512, 1152, 1152}, {512, 1152, 4608}};
    int nshapes = lab_shapes(shapes, 4);
    int max_threads = getenv("LAB_THREADS") && atoi(getenv("LAB_THREADS")) == 1 ? 1 : 2;   /* LAB_THREADS=1: one thread only */
    for (int threads = 1; threads <= max_threads; threads++) {
        double ceiling[2] = {peak(0, 0, threads), peak(1, 0, threads)};
        printf("threads %d: ceiling AMX-INT8 %.0f GOP/s, AMX-BF16 %.0f GFLOP/s; on random operands %.0f, %.0f\n", threads,
               ceiling[0] / 1e9, ceiling[1] / 1e9, peak(0, 1, threads) / 1e9, peak(1, 1, threads) / 1e9);
        fflush(stdout);
        for (int s = 0; s < nshapes; s++) {
            for (int bf16 = 0; bf16 <= 1; bf16++) {
                problem p = make_problem(shapes[s][0], shapes[s][1], shapes[s][2], bf16);
                double ops = 2.0 * p.m * p.k * p.n;
                int reps = (int)(0.05 / (ops / ceiling[bf16] * 3)) + 1;
                for (int v = 0; v < VARIANTS; v++) {
                    if ((bf16 && int8_only(v)) || !selected(v)) continue;
                    double t[7];
                    gemm(&p, v, threads);
                    for (int r = 0; r < 7; r++) {
                        double t0 = now();
                        for (int i = 0; i < reps; i++) gemm(&p, v, threads);
                        t[r] = (now() - t0) / reps;
                    }
                    qsort(t, 7, sizeof t[0], cmp);
                    double rate = ops / t[3];
                    printf("t%d %-4s m %4d k %4d n %4d %-11s %7.0f G/s  ratio %.3f\n", threads, bf16 ? "bf16" : "int8",
                           p.m, p.k, p.n, VARIANT_NAMES[v], rate / 1e9, rate / ceiling[bf16]);
                    fflush(stdout);
                }
            }
        }
    }
    return 0;
#endif
}
