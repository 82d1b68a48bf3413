/*
 * AMX kernels: W8A8 and W4A8 GEMMs on AMX-INT8 (tdpbsud), the float GEMM and attention in BF16 x BF16 -> FP32
 * on AMX-BF16 (tdpbf16ps), and the register-only ceilings of both. build.sh compiles this file alone with
 * -mamx-tile -mamx-int8 -mamx-bf16 (and the AVX-512 flags its epilogues need); dispatch.c calls into it only
 * after amx_support.c found AMX usable. With -DVQ_AMX_EMULATE the tile operations are the software model of
 * native/src/test/c/amx_emulation.h, which is how the tiling is tested on CPUs without AMX.
 *
 * One output block is 32 rows x 32 columns: 2 x 2 accumulator tiles (tmm0-3) of 16 x 16 dwords, fed by two
 * A tiles (tmm4-5: 16 rows of activations x 64 bytes of k) and two B tiles (tmm6-7: 16 rows of k-steps x
 * 16 columns). A k-step of 64 bytes is 4 tile loads for 4 dot products of 16 cycles each. All tiles are full
 * 16 x 64 (one configuration, loaded once per call): row tails of the activations are copied into a zeroed
 * 32-row buffer, k tails of the weights into zeroed tiles, a lone last column tile is paired with itself.
 *
 * Weights are read in place from the panel layouts of viditq.h: a B tile is 16 consecutive k-steps of one
 * 16-column third of a panel, rows VQ_STEP_BYTES apart. Weights are stored unsigned (u = q + 128 or q + 8),
 * so the integer product is tdpbsud (signed activations x unsigned weights) with the zero-point term of the
 * VNNI kernels; the sums are the same integers and the epilogue the same float operations in the same order,
 * so the outputs equal the VNNI kernels' bit for bit. int4 panels are unpacked to bytes (low and high nibbles
 * into consecutive tile rows) once per 32-column block, into a buffer that all row blocks then share.
 *
 * The epilogue (scales, zero point, bias) of one block runs on the vector units while the tiles compute the
 * next block, in slices of a few rows between the next block's k-blocks. Issued whole after the next block's dot
 * products, it did not overlap them: on the AMX host, the int8 GEMM at K = 1152 ran 1.5-2.9x faster with the
 * epilogue left out than with it (docs/BENCHMARKS.md, "AMX host: chunked attention, the GEMM epilogue...").
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "amx_tiles.h"
#include "quant_common.h"
#include "activation_avx512.h"
#include "attention_common.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define BLOCK 32                     /* rows and columns of an output block */
#define TILE_BYTES 1024              /* 16 rows x 64 bytes */
#define A_RESIDENT_BYTES (1 << 20)   /* activation rows of one sweep over the columns: stay in L2 (2 MiB) */

static inline __mmask16 tail_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u));
}

/* ---------------------------------------------------------------- the 32 x 32 block */

/* Where the two B tiles of a column block start, and how to step along k. */
typedef struct {
    const uint8_t *b[2];      /* k-block 0 of the two 16-column groups */
    int64_t stride;           /* bytes between tile rows */
    int64_t kstep;            /* bytes between k-blocks (16 rows) */
    const uint8_t *tail[2];   /* the last k-block as zero-padded tiles (stride 64), or NULL */
    int kblocks;              /* k-blocks, the tail one included */
} b_source;

/*
 * One k-block: 4 loads, 4 dot products; each B tile is used twice and each A tile twice. The A tiles (activations,
 * queries) are loaded with the T1 hint: on a Sapphire Rapids host that made the BF16 path of PixArt-XL/2 10-22%
 * faster end to end and the int8 GEMM at one thread 2-22% (docs/BENCHMARKS.md, "AMX host: activation tiles
 * loaded with the T1 hint"); the B tiles, which the next row block reads again, keep the plain load.
 */
#define KBLOCK(DP, a, lda, b0, b1, bstride)          \
    do {                                              \
        VQ_TILE_LOAD_T1(4, (a), (lda));               \
        VQ_TILE_LOAD(6, (b0), (bstride));             \
        DP(0, 4, 6);                                  \
        VQ_TILE_LOAD(7, (b1), (bstride));             \
        DP(1, 4, 7);                                  \
        VQ_TILE_LOAD_T1(5, (a) + 16 * (lda), (lda));  \
        DP(2, 5, 6);                                  \
        DP(3, 5, 7);                                  \
    } while (0)

/* An output block: rows [r0, r0 + mr), columns [c0, c0 + nc). */
typedef struct {
    int r0, mr, c0, nc;
} block_pos;

/* Rows [lo, hi) of a finished block's epilogue, from its stored accumulators (definitions below). */
static inline void int_epilogue_rows(const void *op, const uint32_t *acc, block_pos p, int lo, int hi);
static inline void float_epilogue_rows(const void *op, const uint32_t *acc, block_pos p, int lo, int hi);

/* The block before the one on the tiles, whose epilogue is still to run: its accumulators (NULL: none) and rows done. */
typedef struct {
    const uint32_t *acc;
    block_pos p;
    int done;
} pending_block;

/* The epilogue of e's rows up to hi (int8 sums, or float sums when BF16). */
ALWAYS_INLINE void epilogue_until(const int BF16, const void *op, pending_block *e, int hi) {
    if (!e->acc || hi <= e->done) return;
    if (BF16) float_epilogue_rows(op, e->acc, e->p, e->done, hi);
    else int_epilogue_rows(op, e->acc, e->p, e->done, hi);
    e->done = hi;
}

/*
 * tmm0-3 = A rows [0, 32) x B columns [0, 32) over all k-blocks; BF16 selects tdpbf16ps, else tdpbsud. Between
 * the k-blocks, slices of the pending block's epilogue (all its rows by the end), so that the vector units work
 * while the tiles compute.
 */
ALWAYS_INLINE void block_product(const int BF16, const uint8_t *a, int64_t lda, const b_source *b, const void *op,
                                 pending_block *e) {
    VQ_TILE_ZERO(0);
    VQ_TILE_ZERO(1);
    VQ_TILE_ZERO(2);
    VQ_TILE_ZERO(3);
    int full = b->tail[0] ? b->kblocks - 1 : b->kblocks;
    int slice = e->acc ? (e->p.mr + b->kblocks - 1) / b->kblocks : 0;
    const uint8_t *b0 = b->b[0], *b1 = b->b[1];
    for (int s = 0; s < full; s++) {
        if (BF16) KBLOCK(VQ_TILE_DPBF16PS, a + 64 * s, lda, b0 + s * b->kstep, b1 + s * b->kstep, b->stride);
        else KBLOCK(VQ_TILE_DPBSUD, a + 64 * s, lda, b0 + s * b->kstep, b1 + s * b->kstep, b->stride);
        epilogue_until(BF16, op, e, e->done + slice < e->p.mr ? e->done + slice : e->p.mr);
    }
    if (b->tail[0]) {
        if (BF16) KBLOCK(VQ_TILE_DPBF16PS, a + 64 * full, lda, b->tail[0], b->tail[1], 64);
        else KBLOCK(VQ_TILE_DPBSUD, a + 64 * full, lda, b->tail[0], b->tail[1], 64);
    }
    epilogue_until(BF16, op, e, e->p.mr);
}

/* The four accumulator tiles into buf[32][32] (dwords). */
static inline void block_store(uint32_t *buf) {
    VQ_TILE_STORE(0, buf, 4 * BLOCK);
    VQ_TILE_STORE(1, buf + 16, 4 * BLOCK);
    VQ_TILE_STORE(2, buf + 16 * BLOCK, 4 * BLOCK);
    VQ_TILE_STORE(3, buf + 16 * BLOCK + 16, 4 * BLOCK);
}

/* ---------------------------------------------------------------- the GEMM driver */

typedef void (*source_fn)(const void *op, int c0, int last_col, b_source *out);

/* One GEMM call as the driver sees it: A rows, the B source per column block (the epilogue follows from the kind). */
typedef struct {
    const uint8_t *a;
    int64_t lda;              /* bytes */
    int rows, col0, col1;
    int kblocks;              /* of A: 64-byte k-blocks to multiply */
    source_fn source;
    const void *op;           /* the call's arguments, for source and epilogue */
} gemm_plan;

/*
 * Sweeps of up to A_RESIDENT_BYTES of activation rows; in each, every 32-column block of [col0, col1) against
 * all row blocks of the sweep, so the block's B tiles (32 columns x k) stay in L1/L2 while A streams from L2.
 * Returns -1 when scratch memory is unavailable (nothing written), else 0.
 */
ALWAYS_INLINE int gemm_driver(const int BF16, const gemm_plan *g) {
    const int64_t lda = g->lda;
    int tail_rows = g->rows % BLOCK;
    const uint8_t *a_tail = NULL;
    if (tail_rows) {
        uint8_t *t = (uint8_t *)vq_thread_buffer(VQ_SCRATCH_A_TAIL, (size_t)BLOCK * lda);
        if (!t) return -1;
        memcpy(t, g->a + (int64_t)(g->rows - tail_rows) * lda, (size_t)tail_rows * lda);
        memset(t + (size_t)tail_rows * lda, 0, (size_t)(BLOCK - tail_rows) * lda);
        a_tail = t;
    }
    int sweep = (int)(A_RESIDENT_BYTES / lda) / BLOCK * BLOCK;
    if (sweep < BLOCK) sweep = BLOCK;
    uint32_t acc[2][BLOCK * BLOCK] __attribute__((aligned(64)));
    pending_block prev = {NULL, {0, 0, 0, 0}, 0};
    int parity = 0;
    vq_tiles_full();
    for (int m0 = 0; m0 < g->rows; m0 += sweep) {
        int m1 = m0 + sweep < g->rows ? m0 + sweep : g->rows;
        for (int c0 = g->col0; c0 < g->col1; c0 += BLOCK) {
            b_source b;
            g->source(g->op, c0, g->col1, &b);
            b.kblocks = g->kblocks;
            for (int r0 = m0; r0 < m1; r0 += BLOCK) {
                const uint8_t *a = r0 + BLOCK <= g->rows ? g->a + (int64_t)r0 * lda : a_tail;
                block_product(BF16, a, lda, &b, g->op, &prev);
                block_store(acc[parity]);
                prev = (pending_block){acc[parity], {r0, g->rows - r0 < BLOCK ? g->rows - r0 : BLOCK, c0,
                                                     g->col1 - c0 < BLOCK ? g->col1 - c0 : BLOCK}, 0};
                parity ^= 1;
            }
        }
    }
    epilogue_until(BF16, g->op, &prev, prev.p.mr);
    VQ_TILE_RELEASE();
    return 0;
}

static int gemm_int8(const gemm_plan *g) {
    return gemm_driver(0, g);
}

static int gemm_bf16(const gemm_plan *g) {
    return gemm_driver(1, g);
}

/* ---------------------------------------------------------------- W8A8 and W4A8 */

/* The 16-column group g of a panel layout whose panels are panel_bytes long, at step 0. */
static inline const uint8_t *panel_group(const uint8_t *w, size_t panel_bytes, int g) {
    return w + (size_t)(g / 3) * panel_bytes + (size_t)(g % 3) * 64;
}

/* The two groups of the block at c0; a lone last group is paired with itself (its twin's columns are dropped). */
static inline void block_groups(int c0, int last_col, int *g0, int *g1) {
    *g0 = c0 / 16;
    *g1 = c0 + 16 < last_col ? *g0 + 1 : *g0;
}

/* int8 panels in place; a k-step count that is no multiple of 16 gets its last k-block copied into zeroed tiles. */
static void w8_source(const void *op, int c0, int last_col, b_source *out) {
    const vq_gemm_args *a = (const vq_gemm_args *)op;
    size_t panel_bytes = (size_t)VQ_NR * a->kpad;
    int g[2], steps = a->kpad / 4, full = steps / 16, rest = steps % 16;
    block_groups(c0, last_col, &g[0], &g[1]);
    uint8_t *tails = rest ? (uint8_t *)vq_thread_buffer(VQ_SCRATCH_B, 2 * TILE_BYTES) : NULL;   /* allocated by gemm_w8a8_amx */
    for (int j = 0; j < 2; j++) {
        out->b[j] = panel_group(a->w, panel_bytes, g[j]);
        out->tail[j] = NULL;
        if (tails) {
            uint8_t *t = tails + j * TILE_BYTES;
            for (int r = 0; r < 16; r++) {
                if (r < rest) memcpy(t + 64 * r, out->b[j] + (size_t)(16 * full + r) * VQ_STEP_BYTES, 64);
                else memset(t + 64 * r, 0, 64);
            }
            out->tail[j] = t;
        }
    }
    out->stride = VQ_STEP_BYTES;
    out->kstep = 16 * VQ_STEP_BYTES;
}

/* Rows of the unpacked int4 tiles of one group: two per int4 k-step, rounded up to whole tiles. */
static inline int w4_tile_rows(const vq_gemm_args *a) {
    return (a->kpad / 8 * 2 + 15) / 16 * 16;
}

/*
 * int4 panels unpacked to bytes: int4 step s (k = 8s .. 8s+7) holds k = 8s + j in the low nibble of byte j of a
 * column and k = 8s + 4 + j in the high one, so its low nibbles are tile row 2s and its high nibbles row 2s + 1.
 * The scratch is sized by the caller (gemm_w4a8_amx).
 */
static void w4_source(const void *op, int c0, int last_col, b_source *out) {
    const vq_gemm_args *a = (const vq_gemm_args *)op;
    size_t panel_bytes = (size_t)VQ_NR * a->kpad / 2;
    int g[2], steps = a->kpad / 8, rows = w4_tile_rows(a);
    block_groups(c0, last_col, &g[0], &g[1]);
    uint8_t *buf = (uint8_t *)vq_thread_buffer(VQ_SCRATCH_B, (size_t)2 * rows * 64);
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    for (int j = 0; j < 2; j++) {
        uint8_t *dst = buf + (size_t)j * rows * 64;
        out->b[j] = dst;
        out->tail[j] = NULL;
        if (j == 1 && g[1] == g[0]) {
            out->b[1] = out->b[0];
            break;
        }
        const uint8_t *src = panel_group(a->w, panel_bytes, g[j]);
        for (int s = 0; s < steps; s++) {
            __m512i raw = _mm512_loadu_si512(src + (size_t)s * VQ_STEP_BYTES);
            _mm512_store_si512(dst + (size_t)(2 * s) * 64, _mm512_and_si512(raw, nibble));
            _mm512_store_si512(dst + (size_t)(2 * s + 1) * 64, _mm512_and_si512(_mm512_srli_epi16(raw, 4), nibble));
        }
        memset(dst + (size_t)2 * steps * 64, 0, (size_t)(rows - 2 * steps) * 64);
    }
    out->stride = 64;
    out->kstep = TILE_BYTES;
}

/*
 * out = (float)(acc - wz * qsum) * ws * sx (+ bias), then the call's activation: per output the float operations of
 * the VNNI kernels' FINISH_PER_CHANNEL and STORE_ROWS, in the same order, so the results are equal bit for bit. Like
 * the rest of the epilogue, the activation runs on the vector units while the tiles compute the next block.
 */
static inline void int_epilogue_rows(const void *op, const uint32_t *acc, block_pos p, int lo, int hi) {
    const vq_gemm_args *a = (const vq_gemm_args *)op;
    for (int v = 0; v < 2 && 16 * v < p.nc; v++) {
        int c = p.c0 + 16 * v;
        __mmask16 m = tail_mask(p.nc - 16 * v);
        __m512i wz = _mm512_loadu_si512(a->wz + c);
        __m512 ws = _mm512_loadu_ps(a->ws + c);
        __m512 bias = a->bias ? _mm512_maskz_loadu_ps(m, a->bias + c) : _mm512_setzero_ps();
        for (int r = lo; r < hi; r++) {
            int row = p.r0 + r;
            __m512i sum = _mm512_loadu_si512(acc + r * BLOCK + 16 * v);
            __m512i corr = _mm512_mullo_epi32(wz, _mm512_set1_epi32(a->qsum[(int64_t)row * a->groups]));
            __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(sum, corr)), ws);
            __m512 o = _mm512_mul_ps(f, _mm512_set1_ps(a->sx[row]));
            if (a->bias) o = _mm512_add_ps(o, bias);
            if (a->activation == VQ_ACT_GELU_TANH) o = vq_gelu_tanh_avx512(o);
            _mm512_mask_storeu_ps(a->out + row * a->ldo + c, m, o);
        }
    }
}

/* col0 may be any multiple of 16 here (the VNNI kernels need a multiple of VQ_NR). */
static void gemm_w8a8_amx(const vq_gemm_args *a) {
    if ((a->kpad / 4) % 16 != 0 && !vq_thread_buffer(VQ_SCRATCH_B, 2 * TILE_BYTES)) {
        vq_impl_avx512vnni.gemm_w8a8(a);
        return;
    }
    gemm_plan g = {(const uint8_t *)a->q, a->ldq, a->rows, a->col0, a->col1, (a->kpad / 4 + 15) / 16,
                   w8_source, a};
    if (gemm_int8(&g) != 0) vq_impl_avx512vnni.gemm_w8a8(a);   /* no scratch for the row tail: VNNI needs none */
}

/* Per-channel int4 on tiles; grouped int4 (a group is less than a tile's k) on the VNNI kernel. */
static void gemm_w4a8_amx(const vq_gemm_args *a) {
    if (a->groups == 1 && vq_thread_buffer(VQ_SCRATCH_B, (size_t)2 * w4_tile_rows(a) * 64)) {
        gemm_plan g = {(const uint8_t *)a->q, a->ldq, a->rows, a->col0, a->col1, w4_tile_rows(a) / 16,
                       w4_source, a};
        if (gemm_int8(&g) == 0) return;
    }
    vq_impl_avx512vnni.gemm_w4a8(a);
}

static int quantize_amx(const vq_quant_args *a) {
    return vq_impl_avx512vnni.quantize(a);
}

static void group_sums_amx(const int8_t *q, int64_t ldq, int rows, int k, int group, int groups, int32_t *out) {
    vq_impl_avx512vnni.group_sums(q, ldq, rows, k, group, groups, out);
}

const vq_impl vq_impl_amx = {"amx", quantize_amx, gemm_w8a8_amx, gemm_w4a8_amx, group_sums_amx, 1};

/* ---------------------------------------------------------------- BF16 GEMM */

static void bf16_source(const void *op, int c0, int last_col, b_source *out) {
    const vq_bf16_gemm_args *a = (const vq_bf16_gemm_args *)op;
    size_t panel_bytes = (size_t)VQ_NR * a->kpad * 2;
    int g[2];
    block_groups(c0, last_col, &g[0], &g[1]);
    for (int j = 0; j < 2; j++) {
        out->b[j] = panel_group((const uint8_t *)a->w, panel_bytes, g[j]);
        out->tail[j] = NULL;
    }
    out->stride = VQ_STEP_BYTES;
    out->kstep = 16 * VQ_STEP_BYTES;
}

static inline void float_epilogue_rows(const void *op, const uint32_t *acc, block_pos p, int lo, int hi) {
    const vq_bf16_gemm_args *a = (const vq_bf16_gemm_args *)op;
    const float *sums = (const float *)acc;
    for (int v = 0; v < 2 && 16 * v < p.nc; v++) {
        int c = p.c0 + 16 * v;
        __mmask16 m = tail_mask(p.nc - 16 * v);
        __m512 bias = a->bias ? _mm512_maskz_loadu_ps(m, a->bias + c) : _mm512_setzero_ps();
        for (int r = lo; r < hi; r++) {
            __m512 o = _mm512_loadu_ps(sums + r * BLOCK + 16 * v);
            if (a->bias) o = _mm512_add_ps(o, bias);
            _mm512_mask_storeu_ps(a->out + (p.r0 + r) * a->ldo + c, m, o);
        }
    }
}

/* k of the packed weights is a multiple of 32 (VQ_BF16_KALIGN): whole k-blocks, no tail. */
void vq_bf16_gemm_amx(const vq_bf16_gemm_args *a) {
    gemm_plan g = {(const uint8_t *)a->a, a->lda * 2, a->rows, a->col0, a->col1, a->kpad / 32,
                   bf16_source, a};
    if (gemm_bf16(&g) != 0) vq_bf16_gemm_avx512(a);   /* no scratch for the row tail */
}

/* ---------------------------------------------------------------- attention */

/*
 * Flash attention of one head on tiles, 32 queries at a time, in chunks of up to ATT_CHUNK keys. Per chunk, three
 * passes: S = Q.K^T for all its keys (4 accumulator tiles per 32 x 32 block, k = the head dimension in blocks of 32,
 * stored into s[32][chunk]); the softmax in FP32 on the vector units over the whole chunk (scale, bias, one max and
 * one sum per query, P = e^(S - m) rounded to bf16); then P.V with the output accumulated in tiles over every key
 * block of the chunk. An online softmax per 32-key block would cost two horizontal reductions per query and a
 * rescale of O in memory per block, more vector work than the tile products; here the reductions and the rescale
 * (alpha = e^(m_old - m_new), from the second chunk on) come once per chunk, and one chunk holds every key of the
 * benchmark shapes (ATT_CHUNK: 32 rows of scores and probabilities, 192 KiB, stay in L2).
 * The operands are packed per head by vq_attention_pack:
 *   qb: bf16 [lq32][dq], dq = d rounded up to 32;
 *   kp: per 16 keys and 32 dimensions one B tile: row = dimension pair, column = key;
 *   vp: per 32 keys and 16 dimensions one B tile: row = key pair, column = dimension.
 * Padding (queries past lq, keys past lk, dimensions past d) is zero; padded keys also get -inf scores.
 * (The packing is kernels_bf16.c's: the AVX512-BF16 kernel reads the same operands.)
 */
#define ATT_CHUNK 1024

/*
 * Whether the scores of keys below key_end get nothing added: no key bias, no head bias, no padding (key_end <= lk),
 * and a positive scale, so that max(scale * s) = scale * max(s) and the softmax can work on the raw scores.
 */
static inline int attention_block_is_raw(const vq_attention_args *t, int key_end) {
    return !t->key_bias && !t->head_bias && t->scale > 0.0f && key_end <= t->lk;
}

/* s[32][kn] = the raw scores of the queries qrows against keys [k0, k0 + kn), kn a multiple of 32. */
static void chunk_scores(const vq_attention_args *t, const uint16_t *qrows, int dq, int k0, int kn, float *s) {
    int dblocks = dq / 32;
    int64_t lds = (int64_t)kn * 4;
    for (int j = 0; j < kn; j += 32) {
        const uint16_t *keys = t->kp + (size_t)(2 * ((k0 + j) / 32)) * dblocks * 512;
        VQ_TILE_ZERO(0);
        VQ_TILE_ZERO(1);
        VQ_TILE_ZERO(2);
        VQ_TILE_ZERO(3);
        for (int b = 0; b < dblocks; b++) {
            KBLOCK(VQ_TILE_DPBF16PS, (const uint8_t *)(qrows + 32 * b), (int64_t)dq * 2,
                   (const uint8_t *)(keys + (size_t)b * 512), (const uint8_t *)(keys + (size_t)(dblocks + b) * 512), 64);
        }
        VQ_TILE_STORE(0, s + j, lds);
        VQ_TILE_STORE(1, s + j + 16, lds);
        VQ_TILE_STORE(2, s + 16 * kn + j, lds);
        VQ_TILE_STORE(3, s + 16 * kn + j + 16, lds);
    }
}

/*
 * The softmax of one chunk for the queries from q0: s = scale * s + key bias + head bias (keys past lk: -inf; rows
 * past lq read no bias), the running max m and sum l of each query, p[32][kn] = bf16(e^(s - m)) and
 * alpha = e^(m_old - m_new), the factor of the output so far. A query that has seen only -inf so far subtracts 0
 * instead of -inf (whose difference would be NaN) and so keeps weights 0. A chunk without biases and padding
 * (self-attention) keeps its raw scores: their max times the scale is the scaled max, and the exp scales them.
 */
static void chunk_softmax(const vq_attention_args *t, int q0, int k0, int kn, float *s, float *m, float *l,
                          float *alpha, uint16_t *p) {
    const __m512 scale = _mm512_set1_ps(t->scale);
    const int raw = attention_block_is_raw(t, k0 + kn);
    float rowmax[32] __attribute__((aligned(64))), rowsum[32] __attribute__((aligned(64)));
    for (int r = 0; r < 32; r++) {
        const float *head_row = t->head_bias && q0 + r < t->lq ? t->head_bias + (int64_t)(q0 + r) * t->ldb : NULL;
        float *row = s + (size_t)r * kn;
        __m512 vmax = _mm512_set1_ps(-__builtin_inff());
        if (raw) {
            for (int j = 0; j < kn; j += 16) vmax = _mm512_max_ps(vmax, _mm512_load_ps(row + j));
            vmax = _mm512_mul_ps(vmax, scale);
        } else {
            for (int j = 0; j < kn; j += 16) {
                __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_load_ps(row + j), scale),
                                         attention_bias16(t->key_bias, head_row, k0 + j, t->lk));
                _mm512_store_ps(row + j, v);
                vmax = _mm512_max_ps(vmax, v);
            }
        }
        rowmax[r] = _mm512_reduce_max_ps(vmax);
    }
    const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
    float ref[32] __attribute__((aligned(64)));
    for (int h = 0; h < 32; h += 16) {
        __m512 old = _mm512_load_ps(m + h), now = _mm512_max_ps(old, _mm512_load_ps(rowmax + h));
        __m512 base = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(now, neg_inf, _CMP_EQ_OQ), now, _mm512_setzero_ps());
        _mm512_store_ps(alpha + h, exp_shifted(old, log2e_times(base)));
        _mm512_store_ps(ref + h, base);
        _mm512_store_ps(m + h, now);
    }
    const __m512 c_raw = _mm512_set1_ps(raw ? t->scale * 1.44269504f : 1.44269504f);   /* the exponent's multiplier */
    for (int r = 0; r < 32; r++) {
        __m512 base = log2e_times(_mm512_set1_ps(ref[r]));
        const float *row = s + (size_t)r * kn;
        uint16_t *prow = p + (size_t)r * kn;
        __m512 sum = _mm512_setzero_ps();
        for (int j = 0; j < kn; j += 32) {
            __m512 p0 = exp_scaled_shifted(_mm512_load_ps(row + j), c_raw, base);
            __m512 p1 = exp_scaled_shifted(_mm512_load_ps(row + j + 16), c_raw, base);
            sum = _mm512_add_ps(sum, _mm512_add_ps(p0, p1));
            _mm512_store_si512(prow + j, (__m512i)_mm512_cvtne2ps_pbh(p1, p0));
        }
        rowsum[r] = _mm512_reduce_add_ps(sum);
    }
    for (int h = 0; h < 32; h += 16) {
        __m512 a = _mm512_load_ps(alpha + h);
        _mm512_store_ps(l + h, _mm512_fmadd_ps(_mm512_load_ps(l + h), a, _mm512_load_ps(rowsum + h)));
    }
}

/*
 * pv[32][groups * 16] = P.V over the chunk's keys [k0, k0 + kn): for each pair of 16-dimension groups (a lone last
 * group alone) the output tiles accumulate over all key blocks and are stored once.
 */
static void chunk_values(const vq_attention_args *t, int k0, int kn, int groups, const uint16_t *p, float *pv) {
    int64_t ldp = (int64_t)kn * 2, ldo = (int64_t)groups * 16 * 4;
    const uint16_t *p_low = p, *p_high = p + (size_t)16 * kn;
    float *pv_high = pv + (size_t)16 * groups * 16;
    for (int g = 0; g < groups; g += 2) {
        int pair = g + 1 < groups;
        VQ_TILE_ZERO(0);
        VQ_TILE_ZERO(2);
        if (pair) {
            VQ_TILE_ZERO(1);
            VQ_TILE_ZERO(3);
        }
        for (int j = 0; j < kn; j += 32) {
            const uint16_t *values = t->vp + (size_t)((k0 + j) / 32) * groups * 512;
            VQ_TILE_LOAD(4, p_low + j, ldp);
            VQ_TILE_LOAD(6, values + (size_t)g * 512, 64);
            VQ_TILE_DPBF16PS(0, 4, 6);
            VQ_TILE_LOAD(5, p_high + j, ldp);
            VQ_TILE_DPBF16PS(2, 5, 6);
            if (pair) {
                VQ_TILE_LOAD(7, values + (size_t)(g + 1) * 512, 64);
                VQ_TILE_DPBF16PS(1, 4, 7);
                VQ_TILE_DPBF16PS(3, 5, 7);
            }
        }
        VQ_TILE_STORE(0, pv + 16 * g, ldo);
        VQ_TILE_STORE(2, pv_high + 16 * g, ldo);
        if (pair) {
            VQ_TILE_STORE(1, pv + 16 * (g + 1), ldo);
            VQ_TILE_STORE(3, pv_high + 16 * (g + 1), ldo);
        }
    }
}

/* o = alpha * o + pv, per query row (32 rows of groups * 16 floats). */
static void rescale_add(float *o, const float *pv, const float *alpha, int groups) {
    int width = groups * 16;
    for (int r = 0; r < 32; r++) {
        __m512 a = _mm512_set1_ps(alpha[r]);
        for (int c = 0; c < width; c += 16) {
            float *dst = o + (size_t)r * width + c;
            _mm512_store_ps(dst, _mm512_fmadd_ps(_mm512_load_ps(dst), a, _mm512_load_ps(pv + (size_t)r * width + c)));
        }
    }
}

int vq_attention_amx(const vq_attention_args *t) {
    int lq32, lk32, dq, groups;
    attention_dims(t->lq, t->lk, t->d, &lq32, &lk32, &dq, &groups);
    (void)lq32;
    int chunk = lk32 < ATT_CHUNK ? lk32 : ATT_CHUNK;
    size_t o_floats = (size_t)32 * groups * 16;
    /* o, pv, s[32][chunk], p[32][chunk] bf16, m, l, alpha */
    size_t floats = 2 * o_floats + (size_t)32 * chunk + (size_t)16 * chunk + 3 * 32;
    float *work = (float *)vq_thread_buffer(VQ_SCRATCH_ATTENTION, floats * sizeof(float));
    if (!work) return -1;
    float *o = work, *pv = o + o_floats, *s = pv + o_floats, *m = s + (size_t)32 * chunk, *l = m + 32, *alpha = l + 32;
    uint16_t *p = (uint16_t *)(alpha + 32);
    vq_tiles_full();
    for (int q0 = t->q0; q0 < t->q1; q0 += 32) {
        const uint16_t *qrows = t->qb + (size_t)q0 * dq;
        if (q0 + 32 < t->q1) {
            prefetch_rows_for_write(t->out + (q0 + 32) * t->ldo, t->ldo, t->q1 - q0 - 32 < 32 ? t->q1 - q0 - 32 : 32, t->d);
        }
        for (int i = 0; i < 32; i++) {
            m[i] = -__builtin_inff();
            l[i] = 0.0f;
        }
        for (int k0 = 0; k0 < lk32; k0 += chunk) {
            int kn = lk32 - k0 < chunk ? lk32 - k0 : chunk;
            chunk_scores(t, qrows, dq, k0, kn, s);
            chunk_softmax(t, q0, k0, kn, s, m, l, alpha, p);
            chunk_values(t, k0, kn, groups, p, k0 == 0 ? o : pv);   /* the first chunk's output needs no rescale */
            if (k0 > 0) rescale_add(o, pv, alpha, groups);
        }
        int rows = t->q1 - q0 < 32 ? t->q1 - q0 : 32;
        for (int r = 0; r < rows; r++) {
            __m512 inv = _mm512_set1_ps(l[r]);
            for (int c = 0; c < t->d; c += 16) {
                __mmask16 mask = tail_mask(t->d - c);
                _mm512_mask_storeu_ps(t->out + (q0 + r) * t->ldo + c, mask, _mm512_div_ps(_mm512_load_ps(o + r * groups * 16 + c), inv));
            }
        }
    }
    VQ_TILE_RELEASE();
    return 0;
}

/* ---------------------------------------------------------------- ceilings */

/* Register-only loops: 4 accumulator tiles, each dot product independent of the previous one on its tile. */
#define PEAK_LOOP(DP)                                           \
    do {                                                        \
        static const uint8_t ones[TILE_BYTES] __attribute__((aligned(64))) = {0}; \
        vq_tiles_full();                                        \
        VQ_TILE_LOAD(4, ones, 64);                              \
        VQ_TILE_LOAD(5, ones, 64);                              \
        VQ_TILE_LOAD(6, ones, 64);                              \
        VQ_TILE_LOAD(7, ones, 64);                              \
        VQ_TILE_ZERO(0);                                        \
        VQ_TILE_ZERO(1);                                        \
        VQ_TILE_ZERO(2);                                        \
        VQ_TILE_ZERO(3);                                        \
        for (int64_t i = 0; i < iters; i++) {                   \
            DP(0, 4, 6);                                        \
            DP(1, 4, 7);                                        \
            DP(2, 5, 6);                                        \
            DP(3, 5, 7);                                        \
        }                                                       \
        int32_t out[16 * 16] __attribute__((aligned(64)));      \
        VQ_TILE_STORE(0, out, 64);                              \
        VQ_TILE_RELEASE();                                      \
        return out[0];                                          \
    } while (0)

/* iters * 4 tdpbsud of 16 x 16 x 64 multiply-adds (32768 integer ops each). */
int64_t vq_amx_int8_peak(int64_t iters) {
    PEAK_LOOP(VQ_TILE_DPBSUD);
}

/* iters * 4 tdpbf16ps of 16 x 16 x 32 multiply-adds (16384 flops each). */
int64_t vq_amx_bf16_peak(int64_t iters) {
    PEAK_LOOP(VQ_TILE_DPBF16PS);
}

#endif
