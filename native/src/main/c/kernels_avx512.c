/*
 * AVX-512 VNNI implementation. Every function in this file is compiled for the target
 * "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,bmi2" (the pragma below gives each function, including
 * the inline helpers of quant_common.h, that target attribute) and runs only after dispatch.c has checked the
 * CPU flags.
 *
 * GEMM: register tiles of 8 rows x 48 columns (24 zmm int32 accumulators). One k-step loads the panel's
 * 3 weight vectors (u8) and broadcasts 4 activation bytes (s8) per row; vpdpbusd multiplies and adds 4 products
 * per lane. int4 weights are unpacked in registers: low nibbles (vpand) hold k..k+3, high nibbles
 * (vpsrlw 4, vpand) k+4..k+7. Grouped int4 uses 4 x 48 tiles: 12 int32 accumulators for the running group
 * plus 12 float sums of the finished groups.
 */
#if defined(__x86_64__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,bmi2")

#include "quant_common.h"
#include "tile_dispatch.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* acc += u8(b) . s8(x) in groups of 4. Inline asm, not _mm512_dpbusd_epi32: gcc 12 copies the accumulator
 * around every intrinsic call (and spills the tile), which cost half the speed. */
#define DPBUSD(acc, b, x) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(b), "v"(x))

static inline int32_t load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __mmask16 tail_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* ---------------------------------------------------------------- quantizer */

/* Stages h = 1, 2, 4, 8 of the Walsh-Hadamard butterflies inside one vector: lane i takes x[i] + x[i^h]
 * where bit h of i is clear and x[i^h] - x[i] where it is set, exactly the scalar a + b, a - b. */
static inline __m512 fwht16(__m512 x) {
    __m512 p = _mm512_permute_ps(x, 0xB1);
    x = _mm512_mask_sub_ps(_mm512_add_ps(x, p), 0xAAAA, p, x);
    p = _mm512_permute_ps(x, 0x4E);
    x = _mm512_mask_sub_ps(_mm512_add_ps(x, p), 0xCCCC, p, x);
    p = _mm512_shuffle_f32x4(x, x, 0xB1);
    x = _mm512_mask_sub_ps(_mm512_add_ps(x, p), 0xF0F0, p, x);
    p = _mm512_shuffle_f32x4(x, x, 0x4E);
    x = _mm512_mask_sub_ps(_mm512_add_ps(x, p), 0xFF00, p, x);
    return x;
}

static void fwht_avx512(float *v, int p) {
    if (p < 16) {
        vq_fwht(v, p);
        return;
    }
    for (int i = 0; i < p; i += 16) _mm512_storeu_ps(v + i, fwht16(_mm512_loadu_ps(v + i)));
    for (int h = 16; h < p; h <<= 1) {
        for (int i = 0; i < p; i += h << 1) {
            for (int j = i; j < i + h; j += 16) {
                __m512 a = _mm512_loadu_ps(v + j), b = _mm512_loadu_ps(v + j + h);
                _mm512_storeu_ps(v + j, _mm512_add_ps(a, b));
                _mm512_storeu_ps(v + j + h, _mm512_sub_ps(a, b));
            }
        }
    }
}

/*
 * vq_mix for hp a multiple of 16, over the rows of a group at once. The mix is a small matrix product
 * y[a2][v] = sum_a hmat[a][a2] * z[a][v] whose columns v are the 16-float vectors of every row's block: one tile
 * of 4 outputs a2 .. a2+3 by 4 such vectors keeps 16 independent FMA chains and loads 4 z vectors and broadcasts
 * 4 coefficients per step of a (half a load per FMA). One row alone has only hp / 16 vectors (2 at 1152 =
 * 36 x 32), which left the loop waiting on loads: the rows of a group share the coefficient broadcasts. The +-1
 * multiplier is exact, so each fmadd rounds once like the scalar add, and every output still sums a = 0, 1, ...
 * in order: the result equals vq_mix bit for bit.
 * z[j] / y[j]: vector j of the group at a = 0 / a2 = 0; successive a (a2) are hp floats apart.
 */
#define MIX_OUTPUTS 4
#define MIX_VECTORS 4
/* Rows transformed together (their mix shares the coefficient loads). */
#define QUANT_ROW_GROUP 4

ALWAYS_INLINE void mix_tile(const float *const *z, float *const *y, int nv, int hm, int hp, int a2,
                            const float *hmat) {
    __m512 acc[MIX_OUTPUTS][MIX_VECTORS];
    for (int j = 0; j < nv; j++) {
        __m512 z0 = _mm512_loadu_ps(z[j]);
        for (int i = 0; i < MIX_OUTPUTS; i++) acc[i][j] = _mm512_mul_ps(_mm512_set1_ps(hmat[a2 + i]), z0);
    }
    for (int a = 1; a < hm; a++) {
        const float *h = hmat + (size_t)a * hm + a2;
        __m512 h0 = _mm512_set1_ps(h[0]), h1 = _mm512_set1_ps(h[1]), h2 = _mm512_set1_ps(h[2]), h3 = _mm512_set1_ps(h[3]);
        for (int j = 0; j < nv; j++) {
            __m512 za = _mm512_loadu_ps(z[j] + (size_t)a * hp);
            acc[0][j] = _mm512_fmadd_ps(h0, za, acc[0][j]);
            acc[1][j] = _mm512_fmadd_ps(h1, za, acc[1][j]);
            acc[2][j] = _mm512_fmadd_ps(h2, za, acc[2][j]);
            acc[3][j] = _mm512_fmadd_ps(h3, za, acc[3][j]);
        }
    }
    for (int i = 0; i < MIX_OUTPUTS; i++) {
        for (int j = 0; j < nv; j++) _mm512_storeu_ps(y[j] + (size_t)(a2 + i) * hp, acc[i][j]);
    }
}

/* One output a2 for one vector: the tail when hm is not a multiple of 4 (Paley orders are, but be safe). */
static void mix_single(const float *z, float *y, int hm, int hp, int a2, const float *hmat) {
    __m512 acc = _mm512_mul_ps(_mm512_set1_ps(hmat[a2]), _mm512_loadu_ps(z));
    for (int a = 1; a < hm; a++) {
        acc = _mm512_fmadd_ps(_mm512_set1_ps(hmat[(size_t)a * hm + a2]), _mm512_loadu_ps(z + (size_t)a * hp), acc);
    }
    _mm512_storeu_ps(y + (size_t)a2 * hp, acc);
}

/* Mixes the blocks of `rows` rows: zrow[r] -> yrow[r] (each hm x hp floats, hp a multiple of 16 up to 4096,
 * rows <= QUANT_ROW_GROUP). */
static void mix_rows_avx512(float *const *zrow, float *const *yrow, int rows, int hm, int hp, const float *hmat) {
    const float *z[QUANT_ROW_GROUP * 4096 / 16];
    float *y[QUANT_ROW_GROUP * 4096 / 16];
    int per = hp / 16, nv = 0;
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < per; v++, nv++) {
            z[nv] = zrow[r] + 16 * v;
            y[nv] = yrow[r] + 16 * v;
        }
    }
    int a2 = 0;
    for (; a2 + MIX_OUTPUTS <= hm; a2 += MIX_OUTPUTS) {
        int j = 0;
        for (; j + MIX_VECTORS <= nv; j += MIX_VECTORS) mix_tile(z + j, y + j, MIX_VECTORS, hm, hp, a2, hmat);
        for (; j < nv; j++) mix_tile(z + j, y + j, 1, hm, hp, a2, hmat);
    }
    for (; a2 < hm; a2++) {
        for (int j = 0; j < nv; j++) mix_single(z[j], y[j], hm, hp, a2, hmat);
    }
}

static void multiply_avx512(const float *x, const float *d, float *out, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(d + i)));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, d + i)));
    }
}

/*
 * Transforms rows [r0, r0 + rows) of x into out (rows x k floats): the diagonal, then per block the fast
 * transform and the mix. work holds rows x hblock floats. Rows without a transform are not copied (see
 * quantize_avx512).
 */
static void transform_rows_avx512(const vq_quant_args *a, int r0, int rows, float *out, float *work) {
    int k = a->k;
    if (!a->hblock) {
        for (int r = 0; r < rows; r++) multiply_avx512(a->x + (r0 + r) * a->ldx, a->diag, out + (size_t)r * k, k);
        return;
    }
    int b = a->hblock, hp = b / a->hm;
    int grouped = a->hm > 1 && hp % 16 == 0 && hp <= 4096;
    for (int o = 0; o < k; o += b) {
        float *zs[QUANT_ROW_GROUP], *ys[QUANT_ROW_GROUP];
        for (int r = 0; r < rows; r++) {
            const float *x = a->x + (r0 + r) * a->ldx + o;
            float *dst = out + (size_t)r * k + o;
            float *z = a->hm == 1 ? dst : work + (size_t)r * b;
            if (a->diag) multiply_avx512(x, a->diag + o, z, b);
            else memcpy(z, x, (size_t)b * sizeof(float));
            for (int s = 0; s < a->hm; s++) fwht_avx512(z + (size_t)s * hp, hp);
            zs[r] = z;
            ys[r] = dst;
            if (a->hm > 1 && !grouped) vq_mix(z, dst, a->hm, hp, a->hmat);
        }
        if (grouped) mix_rows_avx512(zs, ys, rows, a->hm, hp, a->hmat);
    }
}

static void quantize_row_avx512(const float *y, int k, float post, int8_t *q, int64_t ldq, float *scale,
                                int32_t *rowsum) {
    __m512 vmax = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= k; i += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(y + i)));
    __mmask16 tail = tail_mask(k - i);
    if (i < k) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_maskz_loadu_ps(tail, y + i)));
    float amax = _mm512_reduce_max_ps(vmax);
    __m512 inv = _mm512_set1_ps(vq_inverse_step(amax));
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    __m512i sum = _mm512_setzero_si512();
    for (i = 0; i + 16 <= k; i += 16) {
        __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(y + i), inv));  /* round half to even */
        qi = _mm512_min_epi32(_mm512_max_epi32(qi, lo), hi);
        sum = _mm512_add_epi32(sum, qi);
        _mm_storeu_si128((__m128i *)(q + i), _mm512_cvtsepi32_epi8(qi));
    }
    if (i < k) {
        __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, y + i), inv));
        qi = _mm512_min_epi32(_mm512_max_epi32(qi, lo), hi);
        sum = _mm512_add_epi32(sum, qi);
        _mm512_mask_cvtsepi32_storeu_epi8(q + i, tail, qi);
    }
    memset(q + k, 0, (size_t)(ldq - k));
    *scale = vq_scale(amax, post);
    *rowsum = _mm512_reduce_add_epi32(sum);
}

/*
 * This thread's scratch of at least `floats` floats, kept between calls. A fresh allocation per call was mmap'ed
 * and unmapped again once a row group passed malloc's mmap threshold (128 KiB: 4 rows of 4608 with their rotation
 * block), and every unmap interrupts the process's other threads to flush their TLBs. The kernel threads are
 * long-lived pool threads, so each keeps one buffer (at most a few hundred KiB) for its life.
 */
static float *thread_scratch(size_t floats) {
    static __thread float *buffer;
    static __thread size_t capacity;
    if (capacity < floats) {
        free(buffer);
        buffer = (float *)aligned_alloc(64, (floats * sizeof(float) + 63) & ~(size_t)63);
        capacity = buffer ? floats : 0;
    }
    return buffer;
}

static int quantize_avx512(const vq_quant_args *a) {
    if (!a->diag && !a->hblock) {
        for (int r = 0; r < a->rows; r++) {
            quantize_row_avx512(a->x + r * a->ldx, a->k, a->post, a->q + r * a->ldq, a->ldq, a->scales + r, a->rowsums + r);
        }
        return 0;
    }
    size_t floats = (size_t)QUANT_ROW_GROUP * ((size_t)a->k + (size_t)(a->hblock > 0 ? a->hblock : 0)) + 16;
    float *scratch = thread_scratch(floats);
    if (!scratch) return -1;
    float *rows = scratch, *work = scratch + (size_t)QUANT_ROW_GROUP * a->k;
    for (int r0 = 0; r0 < a->rows; r0 += QUANT_ROW_GROUP) {
        int n = a->rows - r0 < QUANT_ROW_GROUP ? a->rows - r0 : QUANT_ROW_GROUP;
        transform_rows_avx512(a, r0, n, rows, work);
        for (int r = 0; r < n; r++) {
            int row = r0 + r;
            quantize_row_avx512(rows + (size_t)r * a->k, a->k, a->post, a->q + row * a->ldq, a->ldq, a->scales + row,
                                a->rowsums + row);
        }
    }
    return 0;
}

static void group_sums_avx512(const int8_t *q, int64_t ldq, int rows, int k, int group, int groups, int32_t *out) {
    vq_group_sums_body(q, ldq, rows, k, group, groups, out);
}

/* ---------------------------------------------------------------- GEMM */

/*
 * The tile epilogues are macros, not functions: a tile array passed to a function has its address taken, and
 * gcc then keeps the whole tile in memory (stack loads/stores around every vpdpbusd).
 *
 * STORE_ROWS: out = f * sx + bias for MR x NV vectors of per-column sums f (already times the weight scale).
 */
#define STORE_ROWS(MR, NV, f, a, r0, c0)                                                            \
    do {                                                                                            \
        int cols_ = (a)->col1 - (c0);                                                               \
        _Pragma("GCC unroll 3") for (int v = 0; v < (NV); v++) {                                    \
            __mmask16 m_ = tail_mask(cols_ - 16 * v);                                               \
            __m512 bias_ = (a)->bias ? _mm512_maskz_loadu_ps(m_, (a)->bias + (c0) + 16 * v)         \
                                     : _mm512_setzero_ps();                                         \
            _Pragma("GCC unroll 8") for (int r = 0; r < (MR); r++) {                                \
                __m512 o_ = _mm512_mul_ps(f[r][v], _mm512_set1_ps((a)->sx[(r0) + r]));              \
                if ((a)->bias) o_ = _mm512_add_ps(o_, bias_);                                       \
                _mm512_mask_storeu_ps((a)->out + ((r0) + r) * (a)->ldo + (c0) + 16 * v, m_, o_);    \
            }                                                                                       \
        }                                                                                           \
    } while (0)

/* f = (float)(acc - wz * qsum) * ws, then stored: the per-channel epilogue of int8 and int4 weights. */
#define FINISH_PER_CHANNEL(MR, NV, acc, a, r0, c0)                                                  \
    do {                                                                                            \
        __m512 f_[8][3];                                                                            \
        _Pragma("GCC unroll 3") for (int v = 0; v < (NV); v++) {                                    \
            __m512i wz_ = _mm512_loadu_si512((a)->wz + (c0) + 16 * v);                              \
            __m512 ws_ = _mm512_loadu_ps((a)->ws + (c0) + 16 * v);                                  \
            _Pragma("GCC unroll 8") for (int r = 0; r < (MR); r++) {                                \
                __m512i corr_ = _mm512_mullo_epi32(wz_, _mm512_set1_epi32((a)->qsum[(r0) + r]));    \
                f_[r][v] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], corr_)), ws_); \
            }                                                                                       \
        }                                                                                           \
        STORE_ROWS(MR, NV, f_, a, r0, c0);                                                          \
    } while (0)

ALWAYS_INLINE void w8_tile(const int MR, const int NV, const vq_gemm_args *a, int r0, int c0, const uint8_t *wp) {
    const int steps = a->kpad / 4;
    const int8_t *q = a->q + r0 * a->ldq;
    const int64_t ldq = a->ldq;
    __m512i acc[8][3];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_si512();
    for (int s = 0; s < steps; s++) {
        const uint8_t *ws = wp + (size_t)s * VQ_STEP_BYTES;
        __m512i b[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_si512(ws + 64 * v);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512i x = _mm512_set1_epi32(load_i32(q + r * ldq + 4 * s));
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) DPBUSD(acc[r][v], b[v], x);
        }
    }
    FINISH_PER_CHANNEL(MR, NV, acc, a, r0, c0);
}

/* The int4 k-step: 3 loads, 6 nibble vectors, 2 * MR * NV vpdpbusd. */
#define W4_STEP(MR, NV, acc, q, ldq, ws, s)                                                     \
    do {                                                                                        \
        const __m512i nib = _mm512_set1_epi8(0x0F);                                             \
        __m512i lo[3], hi[3];                                                                   \
        _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) {                                  \
            __m512i raw = _mm512_loadu_si512((ws) + 64 * v);                                    \
            lo[v] = _mm512_and_si512(raw, nib);                                                 \
            hi[v] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), nib);                           \
        }                                                                                       \
        _Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                                  \
            __m512i x0 = _mm512_set1_epi32(load_i32((q) + r * (ldq) + 8 * (s)));                \
            __m512i x1 = _mm512_set1_epi32(load_i32((q) + r * (ldq) + 8 * (s) + 4));            \
            _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) {                              \
                DPBUSD(acc[r][v], lo[v], x0);                                                   \
                DPBUSD(acc[r][v], hi[v], x1);                                                   \
            }                                                                                   \
        }                                                                                       \
    } while (0)

ALWAYS_INLINE void w4_tile(const int MR, const int NV, const vq_gemm_args *a, int r0, int c0, const uint8_t *wp) {
    const int steps = a->kpad / 8;
    const int8_t *q = a->q + r0 * a->ldq;
    const int64_t ldq = a->ldq;
    __m512i acc[8][3];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_si512();
    for (int s = 0; s < steps; s++) {
        const uint8_t *ws = wp + (size_t)s * VQ_STEP_BYTES;
        W4_STEP(MR, NV, acc, q, ldq, ws, s);
    }
    FINISH_PER_CHANNEL(MR, NV, acc, a, r0, c0);
}

ALWAYS_INLINE void w4_grouped_tile(const int MR, const int NV, const vq_gemm_args *a, int r0, int c0,
                                   const uint8_t *wp) {
    const int steps = a->kpad / 8;
    const int8_t *q = a->q + r0 * a->ldq;
    const int64_t ldq = a->ldq;
    __m512 f[8][3];
    __m512i acc[8][3];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) f[r][v] = _mm512_setzero_ps();
    for (int g = 0; g < a->groups; g++) {
        int s0 = g * a->group_steps, s1 = s0 + a->group_steps < steps ? s0 + a->group_steps : steps;
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_si512();
        for (int s = s0; s < s1; s++) {
            const uint8_t *ws = wp + (size_t)s * VQ_STEP_BYTES;
            W4_STEP(MR, NV, acc, q, ldq, ws, s);
        }
        const float *sg = a->ws + (size_t)g * a->npad + c0;
        const int32_t *zg = a->wz + (size_t)g * a->npad + c0;
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            __m512i wz = _mm512_loadu_si512(zg + 16 * v);
            __m512 ws = _mm512_loadu_ps(sg + 16 * v);
#pragma GCC unroll 8
            for (int r = 0; r < MR; r++) {
                __m512i corr = _mm512_mullo_epi32(wz, _mm512_set1_epi32(a->qsum[(int64_t)(r0 + r) * a->groups + g]));
                __m512 t = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], corr));
                f[r][v] = _mm512_fmadd_ps(t, ws, f[r][v]);
            }
        }
    }
    STORE_ROWS(MR, NV, f, a, r0, c0);
}

static void w8_any(int mr, int nv, const vq_gemm_args *a, int r0, int c0, const uint8_t *wp) {
    DISPATCH_TILE8(w8_tile, mr, nv, a, r0, c0, wp)
}

static void w4_any(int mr, int nv, const vq_gemm_args *a, int r0, int c0, const uint8_t *wp) {
    DISPATCH_TILE8(w4_tile, mr, nv, a, r0, c0, wp)
}

static void w4_grouped_any(int mr, int nv, const vq_gemm_args *a, int r0, int c0, const uint8_t *wp) {
    DISPATCH_TILE4(w4_grouped_tile, mr, nv, a, r0, c0, wp)
}

typedef void (*tile_fn)(int mr, int nv, const vq_gemm_args *a, int r0, int c0, const uint8_t *wp);

/*
 * Blocks of VQ_MC rows; in each, every panel of the column range against all rows of the block. col0 may be any
 * multiple of 16 (the AMX kernels hand over such ranges): a range starting inside a panel starts at its column
 * group there (column c of a step owns bytes [4c, 4c + 4)).
 */
static void gemm_blocked(const vq_gemm_args *a, tile_fn tile, int tile_rows, size_t panel_bytes) {
    for (int m0 = 0; m0 < a->rows; m0 += VQ_MC) {
        int m1 = m0 + VQ_MC < a->rows ? m0 + VQ_MC : a->rows;
        for (int c0 = a->col0, end; c0 < a->col1; c0 = end) {
            const uint8_t *wp = a->w + (size_t)(c0 / VQ_NR) * panel_bytes + (size_t)(c0 % VQ_NR) * 4;
            end = (c0 / VQ_NR + 1) * VQ_NR < a->col1 ? (c0 / VQ_NR + 1) * VQ_NR : a->col1;
            int nv = (end - c0 + 15) / 16;
            for (int r0 = m0; r0 < m1; r0 += tile_rows) {
                int mr = m1 - r0 < tile_rows ? m1 - r0 : tile_rows;
                tile(mr, nv, a, r0, c0, wp);
            }
        }
    }
}

static void gemm_w8a8_avx512(const vq_gemm_args *a) {
    gemm_blocked(a, w8_any, 8, (size_t)VQ_NR * a->kpad);
}

static void gemm_w4a8_avx512(const vq_gemm_args *a) {
    if (a->groups == 1) gemm_blocked(a, w4_any, 8, (size_t)VQ_NR * a->kpad / 2);
    else gemm_blocked(a, w4_grouped_any, 4, (size_t)VQ_NR * a->kpad / 2);
}

/* ---------------------------------------------------------------- ceiling */

int64_t vq_vnni_peak_avx512(int64_t iters) {
    __m512i acc[16];
    const __m512i u = _mm512_set1_epi32(0x01020304), s = _mm512_set1_epi32(0x01FF01FF);
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_epi32(j);
    for (int64_t i = 0; i < iters; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) DPBUSD(acc[j], u, s);
    }
    __m512i t = acc[0];
#pragma GCC unroll 16
    for (int j = 1; j < 16; j++) t = _mm512_add_epi32(t, acc[j]);
    return _mm512_reduce_add_epi32(t);
}

const vq_impl vq_impl_avx512vnni = {"avx512-vnni", quantize_avx512, gemm_w8a8_avx512, gemm_w4a8_avx512,
                                    group_sums_avx512};

#pragma GCC pop_options

#endif
