/*
 * Float GEMM and flash attention in BF16 x BF16 -> FP32 with AVX-512 BF16 (vdpbf16ps), for CPUs with BF16 but no
 * AMX (AMD Zen 4/5), the float-to-bf16 conversion of activations and the packing of attention operands (also used
 * by the AMX kernels), and the vdpbf16ps ceiling.
 * Compiled for "avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma"; runs only after dispatch.c checked the CPU.
 *
 * vdpbf16ps multiplies 16 pairs of bf16 by 16 pairs and adds both products of each pair to an FP32 lane: twice
 * the multiply-adds of an FP32 FMA per instruction. The tile is the int8 kernel's: 8 rows x 48 columns
 * (24 zmm accumulators); a step loads the panel's 3 vectors (16 columns x one k pair each) and broadcasts one
 * k pair per row.
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")

#include "viditq.h"
#include "tile_dispatch.h"
#include "attention_common.h"
#include "activation_avx512.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define BF16_MC 64   /* rows per block: 64 rows of bf16 activations (147 KiB at k = 1152) stay in L2 */

/* acc += pairs(b) . pairs(x). Inline asm for the reason given at DPBUSD in kernels_avx512.c. */
#define DPBF16(acc, b, x) __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(b), "v"(x))

static inline __mmask16 tail_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* a[r][0, lda) = bf16(x[r][0, k)), rounded to nearest even, then zeros. */
/* x[0, n) = GELU-tanh(x), 16 floats at a time (the last ones masked). */
void vq_gelu_tanh_pass_avx512(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, vq_gelu_tanh_avx512(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(x + i, m, vq_gelu_tanh_avx512(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

void vq_bf16_convert_avx512(const float *x, int64_t ldx, int rows, int k, uint16_t *a, int64_t lda) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        uint16_t *ar = a + r * lda;
        int i = 0;
        for (; i + 32 <= k; i += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xr + i + 16), _mm512_loadu_ps(xr + i));
            _mm512_storeu_si512(ar + i, (__m512i)v);
        }
        for (; i < k; i += 16) {
            __mmask16 m = tail_mask(k - i);
            __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, xr + i));
            _mm256_mask_storeu_epi16(ar + i, m, (__m256i)v);
        }
        memset(ar + k, 0, (size_t)(lda - k) * sizeof(uint16_t));
    }
}

ALWAYS_INLINE void bf16_tile(const int MR, const int NV, const vq_bf16_gemm_args *g, int r0, int c0,
                             const uint16_t *wp) {
    const int steps = g->kpad / 2;
    const uint16_t *a = g->a + r0 * g->lda;
    const int64_t lda = g->lda;
    __m512 acc[8][3];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    for (int s = 0; s < steps; s++) {
        const uint16_t *ws = wp + (size_t)s * (VQ_STEP_BYTES / 2);
        __m512 b[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) b[v] = _mm512_castsi512_ps(_mm512_loadu_si512(ws + 32 * v));
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            int32_t pair;
            memcpy(&pair, a + r * lda + 2 * s, sizeof pair);
            __m512 x = _mm512_castsi512_ps(_mm512_set1_epi32(pair));
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) DPBF16(acc[r][v], b[v], x);
        }
    }
    int cols = g->col1 - c0;
#pragma GCC unroll 3
    for (int v = 0; v < NV; v++) {
        __mmask16 m = tail_mask(cols - 16 * v);
        __m512 bias = g->bias ? _mm512_maskz_loadu_ps(m, g->bias + c0 + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            _mm512_mask_storeu_ps(g->out + (r0 + r) * g->ldo + c0 + 16 * v, m, _mm512_add_ps(acc[r][v], bias));
        }
    }
}

static void bf16_any(int mr, int nv, const vq_bf16_gemm_args *g, int r0, int c0, const uint16_t *wp) {
    DISPATCH_TILE8(bf16_tile, mr, nv, g, r0, c0, wp)
}

/*
 * Blocks of BF16_MC rows; in each, every panel of the column range against all rows of the block. col0 may be
 * any multiple of 16, as in the int8 kernels' gemm_blocked.
 */
void vq_bf16_gemm_avx512(const vq_bf16_gemm_args *g) {
    size_t panel = (size_t)VQ_NR * g->kpad;
    for (int m0 = 0; m0 < g->rows; m0 += BF16_MC) {
        int m1 = m0 + BF16_MC < g->rows ? m0 + BF16_MC : g->rows;
        for (int c0 = g->col0, end; c0 < g->col1; c0 = end) {
            const uint16_t *wp = g->w + (size_t)(c0 / VQ_NR) * panel + (size_t)(c0 % VQ_NR) * 2;
            end = (c0 / VQ_NR + 1) * VQ_NR < g->col1 ? (c0 / VQ_NR + 1) * VQ_NR : g->col1;
            int nv = (end - c0 + 15) / 16;
            for (int r0 = m0; r0 < m1; r0 += 8) bf16_any(m1 - r0 < 8 ? m1 - r0 : 8, nv, g, r0, c0, wp);
        }
    }
}

/* ---------------------------------------------------------------- attention */

/* The 32 floats of x from dimension c (zeros past d) as 16 bf16 pairs, rounded to nearest even. */
static inline __m512i bf16_pairs(const float *x, int c, int d) {
    __m512 lo = _mm512_maskz_loadu_ps(lanes_left(d - c), x + c);
    __m512 hi = _mm512_maskz_loadu_ps(lanes_left(d - c - 16), x + c + 16);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/* r[i] lane j <-> r[j] lane i for 16 vectors of 16 dwords: pairs of dwords, then of qwords, then of 128-bit lanes. */
static inline void transpose16x16_epi32(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {   /* u[i + x]: rows i..i+3 at column 4L + x of each 128-bit lane L */
        u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int x = 0; x < 4; x++) {   /* column 4L + x = [u[x].L, u[4 + x].L, u[8 + x].L, u[12 + x].L] */
        __m512i a = _mm512_shuffle_i32x4(u[x], u[4 + x], 0x88), b = _mm512_shuffle_i32x4(u[x], u[4 + x], 0xDD);
        __m512i c = _mm512_shuffle_i32x4(u[8 + x], u[12 + x], 0x88), e = _mm512_shuffle_i32x4(u[8 + x], u[12 + x], 0xDD);
        r[x] = _mm512_shuffle_i32x4(a, c, 0x88);
        r[8 + x] = _mm512_shuffle_i32x4(a, c, 0xDD);
        r[4 + x] = _mm512_shuffle_i32x4(b, e, 0x88);
        r[12 + x] = _mm512_shuffle_i32x4(b, e, 0xDD);
    }
}

/*
 * Rows read this many rows ahead of their use by vq_attention_pack: a head's rows lie a fused q/k/v row apart
 * (13.8 KB for PixArt-XL), too far for the hardware prefetchers to follow, so each row would otherwise wait on its
 * own misses. On an AMX host the packing of a PixArt-XL head took 31 us without, 24-25 with (8 or 16 rows ahead
 * alike; docs/BENCHMARKS.md, "AMX host: the caption's keys and values kept across steps, the attention's operands
 * packed in place").
 */
#define PACK_AHEAD 8

/*
 * Packs one head for both attention kernels (layouts in kernels_amx.c): queries as bf16 rows, keys as the B tiles
 * of Q.K^T, values as the B tiles of P.V; zeros past lq, lk and d. Only AVX-512 instructions: it runs on every CPU
 * with AVX512-BF16. The key tiles are a transpose (row = dimension pair, column = key): 16 keys are converted to
 * pairs and transposed in registers, a tile at a time.
 */
void vq_attention_pack(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv,
                       int lq, int lk, int d, uint16_t *qb, uint16_t *kp, uint16_t *vp) {
    int lq32, lk32, dq, groups;
    attention_dims(lq, lk, d, &lq32, &lk32, &dq, &groups);
    /* queries: bf16 rows of dq (zeros past d and past lq) */
    for (int r = 0; r < lq32; r++) {
        if (r + PACK_AHEAD < lq) prefetch_floats(q + (int64_t)(r + PACK_AHEAD) * ldq, d);
        uint16_t *row = qb + (size_t)r * dq;
        for (int c = 0; c < dq; c += 32) {
            _mm512_storeu_si512(row + c, r < lq ? bf16_pairs(q + (int64_t)r * ldq, c, d) : _mm512_setzero_si512());
        }
    }
    int dblocks = dq / 32;
    /* keys: dimension pair p of key j goes to tile (j / 16, p / 16), row p % 16, column j % 16 */
    for (int j0 = 0; j0 < lk32; j0 += 16) {
        for (int j = j0 + 16; j < j0 + 32 && j < lk; j++) prefetch_floats(k + (int64_t)j * ldk, d);
        for (int b = 0; b < dblocks; b++) {
            __m512i rows[16];
            for (int j = 0; j < 16; j++) {
                rows[j] = j0 + j < lk ? bf16_pairs(k + (int64_t)(j0 + j) * ldk, 32 * b, d) : _mm512_setzero_si512();
            }
            transpose16x16_epi32(rows);
            uint16_t *tile = kp + ((size_t)(j0 / 16) * dblocks + b) * 512;
            for (int p = 0; p < 16; p++) _mm512_storeu_si512(tile + 32 * p, rows[p]);
        }
    }
    /* values: keys 2r and 2r + 1 of a 32-key block interleaved into row r of the tile of each 16 dimensions */
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int j = 0; j < lk32; j += 2) {
        if (j + PACK_AHEAD < lk) prefetch_floats(v + (int64_t)(j + PACK_AHEAD) * ldv, d);
        if (j + PACK_AHEAD + 1 < lk) prefetch_floats(v + (int64_t)(j + PACK_AHEAD + 1) * ldv, d);
        const float *v0 = v + (int64_t)j * ldv, *v1 = v0 + ldv;
        int dims0 = j < lk ? d : 0, dims1 = j + 1 < lk ? d : 0;   /* keys past lk are zeros */
        uint16_t *block = vp + (size_t)(j / 32) * groups * 512 + (size_t)(j % 32 / 2) * 32;
        for (int g = 0; g < groups; g++) {
            __m512 lo = _mm512_maskz_loadu_ps(lanes_left(dims0 - 16 * g), v0 + 16 * g);
            __m512 hi = _mm512_maskz_loadu_ps(lanes_left(dims1 - 16 * g), v1 + 16 * g);
            __m512i both = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);   /* key j's 16 dimensions, then key j + 1's */
            _mm512_storeu_si512(block + (size_t)g * 512, _mm512_permutexvar_epi16(interleave, both));
        }
    }
}

/*
 * Flash attention of one head with vdpbf16ps on the operands of vq_attention_pack, whose tiles are vdpbf16ps
 * operands row by row: a row of a K tile holds 16 keys x one dimension pair, a row of a V tile 16 dimensions x
 * one key pair. For each tile of up to ATT_QT queries and each block of up to ATT_KB keys:
 *   S = Q.K^T, 64 keys at a time in ATT_QT x 4 accumulators of 16 keys (per dimension pair: 4 key vectors loaded,
 *     one query pair broadcast per row), stored to s;
 *   the online softmax of the AMX kernel in FP32 (scale, biases, running max m and sum l, P = bf16(e^(s - m)));
 *   O = alpha * O + P.V per chunk of up to 4 vectors of 16 dimensions (per key pair: the chunk's V rows loaded,
 *     one P pair broadcast per row); O, ATT_QT x d floats, stays in L1.
 * Both products accumulate in FP32; only the head dimensions up to d are multiplied (the packing pads them to 32
 * for the tiles; a pair past d is zero). 24 accumulators + 4 operands + 1 broadcast fill 29 of the 32 registers.
 */
#define ATT_QT 6
#define ATT_KB 128   /* keys per block: the per-block work (row max, rescale of O) is amortised over more keys */

ALWAYS_INLINE void att_scores(const int QT, const int KV, const uint16_t *q, int dq, const uint16_t *k,
                              int64_t kstride, int pairs, float *s) {
    __m512 acc[ATT_QT][4];
#pragma GCC unroll 6
    for (int r = 0; r < QT; r++)
#pragma GCC unroll 4
        for (int v = 0; v < KV; v++) acc[r][v] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; p++) {
        __m512 b[4];
#pragma GCC unroll 4
        for (int v = 0; v < KV; v++) b[v] = _mm512_castsi512_ps(_mm512_loadu_si512(k + v * kstride + 32 * p));
#pragma GCC unroll 6
        for (int r = 0; r < QT; r++) {
            int32_t pair;
            memcpy(&pair, q + r * dq + 2 * p, sizeof pair);
            __m512 x = _mm512_castsi512_ps(_mm512_set1_epi32(pair));
#pragma GCC unroll 4
            for (int v = 0; v < KV; v++) DPBF16(acc[r][v], b[v], x);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < QT; r++)
#pragma GCC unroll 4
        for (int v = 0; v < KV; v++) _mm512_store_ps(s + r * ATT_KB + 16 * v, acc[r][v]);
}

/* o[r][0, 16 NV) = alpha[r] * o[r] + P[r] . V over `pairs` key pairs; v: the first 32-key V block at this chunk. */
ALWAYS_INLINE void att_values(const int QT, const int NV, const uint16_t *p, int pairs, const uint16_t *v,
                              int64_t vblock, const float *alpha, float *o, int ldo) {
    __m512 acc[ATT_QT][4];
#pragma GCC unroll 6
    for (int r = 0; r < QT; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) acc[r][c] = _mm512_setzero_ps();
    for (int half = 0; half < pairs; half += 16, v += vblock) {
        for (int j = 0; j < 16; j++) {
            __m512 b[4];
#pragma GCC unroll 4
            for (int c = 0; c < NV; c++) b[c] = _mm512_castsi512_ps(_mm512_loadu_si512(v + 512 * c + 32 * j));
#pragma GCC unroll 6
            for (int r = 0; r < QT; r++) {
                int32_t pair;
                memcpy(&pair, p + r * ATT_KB + 2 * (half + j), sizeof pair);
                __m512 x = _mm512_castsi512_ps(_mm512_set1_epi32(pair));
#pragma GCC unroll 4
                for (int c = 0; c < NV; c++) DPBF16(acc[r][c], b[c], x);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < QT; r++) {
        __m512 a = _mm512_set1_ps(alpha[r]);
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) {
            float *dst = o + r * ldo + 16 * c;
            _mm512_store_ps(dst, _mm512_fmadd_ps(_mm512_load_ps(dst), a, acc[r][c]));
        }
    }
}

#define ATT_SCORES(QT, KV, ...) att_scores(QT, KV, __VA_ARGS__)
#define ATT_VALUES(QT, NV, ...) att_values(QT, NV, __VA_ARGS__)
#define ATT_BY_ROWS(F, qt, n, ...)                        \
    switch (qt) {                                         \
        case 6: F(6, n, __VA_ARGS__); break;              \
        case 5: F(5, n, __VA_ARGS__); break;              \
        case 4: F(4, n, __VA_ARGS__); break;              \
        case 3: F(3, n, __VA_ARGS__); break;              \
        case 2: F(2, n, __VA_ARGS__); break;              \
        default: F(1, n, __VA_ARGS__); break;             \
    }

static void scores_any(int qt, int kv, const uint16_t *q, int dq, const uint16_t *k, int64_t kstride, int pairs, float *s) {
    if (kv == 4) { ATT_BY_ROWS(ATT_SCORES, qt, 4, q, dq, k, kstride, pairs, s) }
    else { ATT_BY_ROWS(ATT_SCORES, qt, 2, q, dq, k, kstride, pairs, s) }
}

static void values_any(int qt, int nv, const uint16_t *p, int pairs, const uint16_t *v, int64_t vblock,
                       const float *alpha, float *o, int ldo) {
    switch (nv) {
        case 4: ATT_BY_ROWS(ATT_VALUES, qt, 4, p, pairs, v, vblock, alpha, o, ldo) break;
        case 3: ATT_BY_ROWS(ATT_VALUES, qt, 3, p, pairs, v, vblock, alpha, o, ldo) break;
        case 2: ATT_BY_ROWS(ATT_VALUES, qt, 2, p, pairs, v, vblock, alpha, o, ldo) break;
        default: ATT_BY_ROWS(ATT_VALUES, qt, 1, p, pairs, v, vblock, alpha, o, ldo) break;
    }
}

/*
 * The online softmax of rows [0, qt) of a score block of nk keys from key0, for queries from q, with the AMX
 * kernel's arithmetic: s = scale * s + (key bias + head bias), -inf past lk; a query that has seen only -inf
 * subtracts 0, not -inf. Per row only the max is reduced across lanes: the running sum stays a vector per row
 * (lsum, 16 floats) until the end, and the rescale factors of all rows are one exp.
 */
static void att_softmax(const vq_attention_args *t, int q, int qt, int key0, int nk, float *s, float *m, float *lsum,
                        float *alpha, uint16_t *p) {
    const __m512 scale = _mm512_set1_ps(t->scale);
    __m512 shared[ATT_KB / 16];   /* the key bias and the padding mask, alike for every row */
    for (int c = 0; c < nk; c += 16) shared[c / 16] = attention_bias16(t->key_bias, NULL, key0 + c, t->lk);
    float old[16] __attribute__((aligned(64))) = {0}, ref[16] __attribute__((aligned(64))) = {0};
    for (int r = 0; r < qt; r++) {
        const float *head_row = t->head_bias ? t->head_bias + (int64_t)(q + r) * t->ldb : NULL;
        float *row = s + r * ATT_KB;
        __m512 max = _mm512_set1_ps(-__builtin_inff());
        for (int c = 0; c < nk; c += 16) {
            __m512 add = shared[c / 16];
            if (head_row) add = _mm512_add_ps(add, _mm512_maskz_loadu_ps(lanes_left(t->lk - key0 - c), head_row + key0 + c));
            __m512 x = _mm512_add_ps(_mm512_mul_ps(_mm512_load_ps(row + c), scale), add);
            _mm512_store_ps(row + c, x);
            max = _mm512_max_ps(max, x);
        }
        float block_max = _mm512_reduce_max_ps(max), now = m[r] > block_max ? m[r] : block_max;
        old[r] = m[r];
        ref[r] = now == -__builtin_inff() ? 0.0f : now;
        m[r] = now;
    }
    _mm512_store_ps(alpha, exp_shifted(_mm512_load_ps(old), log2e_times(_mm512_load_ps(ref))));
    for (int r = 0; r < qt; r++) {
        const float *row = s + r * ATT_KB;
        __m512 base = log2e_times(_mm512_set1_ps(ref[r])), sum = _mm512_setzero_ps();
        for (int c = 0; c < nk; c += 32) {
            __m512 p0 = exp_shifted(_mm512_load_ps(row + c), base);
            __m512 p1 = exp_shifted(_mm512_load_ps(row + c + 16), base);
            sum = _mm512_add_ps(sum, _mm512_add_ps(p0, p1));
            _mm512_storeu_si512(p + r * ATT_KB + c, (__m512i)_mm512_cvtne2ps_pbh(p1, p0));
        }
        float *l = lsum + 16 * r;
        _mm512_store_ps(l, _mm512_fmadd_ps(_mm512_load_ps(l), _mm512_set1_ps(alpha[r]), sum));
    }
}

void vq_attention_avx512(const vq_attention_args *t) {
    int lq32, lk32, dq, groups;
    attention_dims(t->lq, t->lk, t->d, &lq32, &lk32, &dq, &groups);
    (void)lq32;
    const int pairs = (t->d + 1) / 2, ldo = groups * 16;
    const int64_t kgroup = (int64_t)dq * 16, vblock = (int64_t)groups * 512;   /* 16 keys of kp, 32 keys of vp */
    float o[ATT_QT * 512] __attribute__((aligned(64)));
    float s[ATT_QT * ATT_KB] __attribute__((aligned(64)));
    float m[ATT_QT], lsum[ATT_QT * 16] __attribute__((aligned(64))), alpha[16] __attribute__((aligned(64)));
    uint16_t p[ATT_QT * ATT_KB] __attribute__((aligned(64)));
    for (int q = t->q0; q < t->q1; q += ATT_QT) {
        int qt = t->q1 - q < ATT_QT ? t->q1 - q : ATT_QT;
        if (q + qt < t->q1) {
            prefetch_rows_for_write(t->out + (int64_t)(q + qt) * t->ldo, t->ldo, t->q1 - q - qt < ATT_QT ? t->q1 - q - qt : ATT_QT, t->d);
        }
        memset(o, 0, sizeof(float) * (size_t)qt * ldo);
        for (int r = 0; r < qt; r++) {
            m[r] = -__builtin_inff();
            _mm512_store_ps(lsum + 16 * r, _mm512_setzero_ps());
        }
        for (int key0 = 0; key0 < lk32; key0 += ATT_KB) {
            int nk = lk32 - key0 < ATT_KB ? lk32 - key0 : ATT_KB;
            for (int c = 0; c < nk; c += 64) {   /* 64 keys (4 vectors) per pass: 24 accumulators */
                scores_any(qt, nk - c < 64 ? (nk - c) / 16 : 4, t->qb + (int64_t)q * dq, dq,
                           t->kp + (key0 + c) / 16 * kgroup, kgroup, pairs, s + c);
            }
            att_softmax(t, q, qt, key0, nk, s, m, lsum, alpha, p);
            const uint16_t *v = t->vp + key0 / 32 * vblock;
            /* chunks of at most 4 vectors, balanced (d = 72: 3 + 2, not 4 + 1, whose 6 accumulators would wait on
               the latency of vdpbf16ps) */
            for (int g = 0, chunks = (groups + 3) / 4; g < groups; chunks--) {
                int nv = (groups - g + chunks - 1) / chunks;
                values_any(qt, nv, p, nk / 2, v + (int64_t)g * 512, vblock, alpha, o + 16 * g, ldo);
                g += nv;
            }
        }
        for (int r = 0; r < qt; r++) {
            __m512 inv = _mm512_set1_ps(_mm512_reduce_add_ps(_mm512_load_ps(lsum + 16 * r)));
            for (int c = 0; c < t->d; c += 16) {
                _mm512_mask_storeu_ps(t->out + (int64_t)(q + r) * t->ldo + c, tail_mask(t->d - c),
                                      _mm512_div_ps(_mm512_load_ps(o + r * ldo + c), inv));
            }
        }
    }
}

/* ---------------------------------------------------------------- attention over few keys */

/*
 * Attention over at most VQ_SHORT_KEYS keys (a video model's temporal attention: one short sequence per patch
 * position, thousands of heads of 16 frames), straight from the FP32 rows: packing such a head into tiles costs more
 * than its products, and the tiles' 32-row padding doubles the work of 16 keys. The arithmetic is the tile kernels':
 * q, k, v rounded to bf16 (their products are exact in FP32, so FP32 FMAs give bf16 x bf16 -> fp32 dot products),
 * scores and softmax in FP32, probabilities rounded to bf16 for the product with v, the output divided by the sum
 * of the unrounded ones. Per head: keys transposed into kt (dimension c, key j at c * VQ_SHORT_KEYS + j) and values
 * rounded into vr, both in L1; then queries four at a time, one key vector of 16 lanes per 16 keys. The rows of
 * SHORT_GROUP heads are first copied together (a temporal attention's rows of one head lie a frame, ~1 MiB, apart:
 * 48 streams of 288 bytes per head are more than the hardware prefetchers follow, while the group's copies stream).
 */
#define SHORT_QB 4
#define SHORT_GROUP 16   /* heads whose rows are copied together, so that the copies stream */
#define SHORT_QCHUNK 64

/* x rounded to bf16 (nearest even) and back to FP32. */
static inline __m512 bf16_round(__m512 x) {
    __m512i wide = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(x));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

/* kt[c][j] = bf16(k[j][c]) for keys j < lk (zeros up to 16 KV), c < d; vr[j] = bf16(v[j]) padded with zeros to 16 DV. */
static void short_stage(const float *k, int64_t ldk, const float *v, int64_t ldv, int lk, int d, float *kt, float *vr) {
    int dv = (d + 15) / 16 * 16;
    for (int j0 = 0; j0 < lk; j0 += 16) {
        for (int c0 = 0; c0 < d; c0 += 16) {
            __m512i rows[16];
            for (int j = 0; j < 16; j++) {
                rows[j] = j0 + j < lk ? _mm512_castps_si512(bf16_round(_mm512_maskz_loadu_ps(lanes_left(d - c0), k + (int64_t)(j0 + j) * ldk + c0)))
                                      : _mm512_setzero_si512();
            }
            transpose16x16_epi32(rows);
            for (int c = 0; c < 16 && c0 + c < d; c++) _mm512_store_si512(kt + (c0 + c) * VQ_SHORT_KEYS + j0, rows[c]);
        }
    }
    for (int j = 0; j < lk; j++) {
        for (int c = 0; c < dv; c += 16) {
            _mm512_store_ps(vr + j * VQ_SHORT_D + c, bf16_round(_mm512_maskz_loadu_ps(lanes_left(d - c), v + (int64_t)j * ldv + c)));
        }
    }
}

/* Scores of SHORT_QB queries (rows of qr, bf16-rounded, stride VQ_SHORT_D) against KV vectors of 16 keys. */
ALWAYS_INLINE void short_scores(const int KV, const float *qr, const float *kt, int d, __m512 acc[SHORT_QB][4]) {
#pragma GCC unroll 4
    for (int r = 0; r < SHORT_QB; r++)
#pragma GCC unroll 4
        for (int v = 0; v < KV; v++) acc[r][v] = _mm512_setzero_ps();
    for (int c = 0; c < d; c++) {
        __m512 key[4];
#pragma GCC unroll 4
        for (int v = 0; v < KV; v++) key[v] = _mm512_load_ps(kt + c * VQ_SHORT_KEYS + 16 * v);
#pragma GCC unroll 4
        for (int r = 0; r < SHORT_QB; r++) {
            __m512 x = _mm512_set1_ps(qr[r * VQ_SHORT_D + c]);
#pragma GCC unroll 4
            for (int v = 0; v < KV; v++) acc[r][v] = _mm512_fmadd_ps(x, key[v], acc[r][v]);
        }
    }
}

/* o[r] = sum_j p[r][j] vr[j] over lk keys, for NV vectors of 16 dimensions from dimension 16 * g0. */
ALWAYS_INLINE void short_values(const int NV, const float *p, const float *vr, int lk, int g0, __m512 out[SHORT_QB][4]) {
#pragma GCC unroll 4
    for (int r = 0; r < SHORT_QB; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) out[r][c] = _mm512_setzero_ps();
    for (int j = 0; j < lk; j++) {
        __m512 val[4];
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) val[c] = _mm512_load_ps(vr + j * VQ_SHORT_D + 16 * (g0 + c));
#pragma GCC unroll 4
        for (int r = 0; r < SHORT_QB; r++) {
            __m512 w = _mm512_set1_ps(p[r * VQ_SHORT_KEYS + j]);
#pragma GCC unroll 4
            for (int c = 0; c < NV; c++) out[r][c] = _mm512_fmadd_ps(w, val[c], out[r][c]);
        }
    }
}

/* The softmax of one query's KV score vectors: p = bf16(e^(s - max)) into prow (zeros past lk); returns the sum. */
static inline float short_softmax(__m512 *acc, int KV, int lk, float scale, float *prow) {
    __m512 max = _mm512_set1_ps(-__builtin_inff());
    for (int v = 0; v < KV; v++) {
        acc[v] = _mm512_mask_blend_ps(lanes_left(lk - 16 * v), _mm512_set1_ps(-__builtin_inff()),
                                      _mm512_mul_ps(acc[v], _mm512_set1_ps(scale)));
        max = _mm512_max_ps(max, acc[v]);
    }
    __m512 base = log2e_times(_mm512_set1_ps(_mm512_reduce_max_ps(max))), sum = _mm512_setzero_ps();
    for (int v = 0; v < KV; v++) {
        __m512 e = exp_shifted(acc[v], base);
        sum = _mm512_add_ps(sum, e);
        _mm512_store_ps(prow + 16 * v, bf16_round(e));
    }
    return _mm512_reduce_add_ps(sum);
}

ALWAYS_INLINE void short_block(const int KV, const float *qr, const float *kt, const float *vr, int d, int lk,
                               float scale, int nq, float *out, int64_t ldo) {
    float p[SHORT_QB * VQ_SHORT_KEYS] __attribute__((aligned(64)));
    float inv[SHORT_QB];
    __m512 acc[SHORT_QB][4];
    short_scores(KV, qr, kt, d, acc);
    for (int r = 0; r < SHORT_QB; r++) inv[r] = 1.0f / short_softmax(acc[r], KV, lk, scale, p + r * VQ_SHORT_KEYS);
    int groups = (d + 15) / 16;
    for (int g = 0, chunks = (groups + 3) / 4; g < groups; chunks--) {   /* balanced chunks of <= 4 vectors */
        int nv = (groups - g + chunks - 1) / chunks;
        __m512 o[SHORT_QB][4];
        switch (nv) {
            case 4: short_values(4, p, vr, lk, g, o); break;
            case 3: short_values(3, p, vr, lk, g, o); break;
            case 2: short_values(2, p, vr, lk, g, o); break;
            default: short_values(1, p, vr, lk, g, o); break;
        }
        for (int r = 0; r < nq; r++) {
            for (int c = 0; c < nv; c++) {
                int dim = 16 * (g + c);
                _mm512_mask_storeu_ps(out + r * ldo + dim, lanes_left(d - dim), _mm512_mul_ps(o[r][c], _mm512_set1_ps(inv[r])));
            }
        }
        g += nv;
    }
}

/* Queries [q0, q1) of one head (q, k, v, out at its first column), four at a time after staging its keys and values. */
static void short_head(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv, float *out,
                       int64_t ldo, int nqueries, int lk, int d, float scale) {
    float kt[VQ_SHORT_D * VQ_SHORT_KEYS] __attribute__((aligned(64)));
    float vr[VQ_SHORT_KEYS * VQ_SHORT_D] __attribute__((aligned(64)));
    float qr[SHORT_QB * VQ_SHORT_D] __attribute__((aligned(64)));
    const int kv = (lk + 15) / 16;
    short_stage(k, ldk, v, ldv, lk, d, kt, vr);
    for (int q0 = 0; q0 < nqueries; q0 += SHORT_QB) {
        int nq = nqueries - q0 < SHORT_QB ? nqueries - q0 : SHORT_QB;
        for (int r = 0; r < SHORT_QB; r++) {   /* rows past the last repeat it; their outputs are dropped */
            const float *row = q + (int64_t)(q0 + (r < nq ? r : nq - 1)) * ldq;
            for (int c = 0; c < d; c += 16) {
                _mm512_store_ps(qr + r * VQ_SHORT_D + c, bf16_round(_mm512_maskz_loadu_ps(lanes_left(d - c), row + c)));
            }
        }
        float *o = out + (int64_t)q0 * ldo;
        switch (kv) {
            case 4: short_block(4, qr, kt, vr, d, lk, scale, nq, o, ldo); break;
            case 3: short_block(3, qr, kt, vr, d, lk, scale, nq, o, ldo); break;
            case 2: short_block(2, qr, kt, vr, d, lk, scale, nq, o, ldo); break;
            default: short_block(1, qr, kt, vr, d, lk, scale, nq, o, ldo); break;
        }
    }
}

/* rows x width floats from src (row stride ld) to dst (row stride width). */
static void copy_rows(const float *src, int64_t ld, int rows, int width, float *dst) {
    for (int r = 0; r < rows; r++) memcpy(dst + (int64_t)r * width, src + (int64_t)r * ld, (size_t)width * 4);
}

int vq_attention_short_avx512(const vq_short_attention_args *a) {
    const int d = a->d;
    float *buf = (float *)vq_thread_buffer(VQ_SCRATCH_SHORT_ATTENTION, (size_t)(2 * a->lk + SHORT_QCHUNK) * SHORT_GROUP * d * 4);
    if (!buf) return -1;
    for (int g0 = a->h0; g0 < a->h1; g0 += SHORT_GROUP) {
        int gh = a->h1 - g0 < SHORT_GROUP ? a->h1 - g0 : SHORT_GROUP, width = gh * d;
        const int64_t col = (int64_t)g0 * d;
        float *ks = buf, *vs = ks + (size_t)a->lk * width, *qs = vs + (size_t)a->lk * width;
        copy_rows(a->k + col, a->ldk, a->lk, width, ks);
        copy_rows(a->v + col, a->ldv, a->lk, width, vs);
        for (int q0 = a->q0; q0 < a->q1; q0 += SHORT_QCHUNK) {
            int nq = a->q1 - q0 < SHORT_QCHUNK ? a->q1 - q0 : SHORT_QCHUNK;
            copy_rows(a->q + (int64_t)q0 * a->ldq + col, a->ldq, nq, width, qs);
            for (int h = 0; h < gh; h++) {
                short_head(qs + h * d, width, ks + h * d, width, vs + h * d, width,
                           a->out + (int64_t)q0 * a->ldo + col + h * d, a->ldo, nq, a->lk, d, a->scale);
            }
        }
    }
    return 0;
}

/* Register-only vdpbf16ps loop, 16 independent chains; iters * 16 instructions of 32 multiply-adds (64 flops). */
int64_t vq_bf16_dot_peak_avx512(int64_t iters) {
    __m512 acc[16];
    const __m512 x = _mm512_castsi512_ps(_mm512_set1_epi32(0x3F803F80)), y = _mm512_castsi512_ps(_mm512_set1_epi32(0x00800080));
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_ps((float)j);
    for (int64_t i = 0; i < iters; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) DPBF16(acc[j], x, y);
    }
    __m512 t = acc[0];
#pragma GCC unroll 16
    for (int j = 1; j < 16; j++) t = _mm512_add_ps(t, acc[j]);
    return (int64_t)_mm512_reduce_add_ps(t);
}

#pragma GCC pop_options

#endif
