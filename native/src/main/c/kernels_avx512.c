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
#include "activation_avx512.h"
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

/* Stages h = 1, 2, 4, 8 of the Walsh-Hadamard butterflies inside one vector: lane i takes x[i] + x[i^h] where bit h
 * of i is clear and x[i^h] - x[i] where it is set, exactly the scalar a + b, a - b: one fmadd x * (+-1) + partner,
 * whose product is exact, so it rounds once as the add or subtract does. */
ALWAYS_INLINE __m512 butterfly_lanes(__m512 x, __m512 partner, __mmask16 upper) {
    __m512 sign = _mm512_mask_blend_ps(upper, _mm512_set1_ps(1.0f), _mm512_set1_ps(-1.0f));
    return _mm512_fmadd_ps(x, sign, partner);
}

static inline __m512 fwht16(__m512 x) {
    x = butterfly_lanes(x, _mm512_permute_ps(x, 0xB1), 0xAAAA);
    x = butterfly_lanes(x, _mm512_permute_ps(x, 0x4E), 0xCCCC);
    x = butterfly_lanes(x, _mm512_shuffle_f32x4(x, x, 0xB1), 0xF0F0);
    x = butterfly_lanes(x, _mm512_shuffle_f32x4(x, x, 0x4E), 0xFF00);
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

static void multiply_avx512(const float *x, const float *d, float *out, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(d + i)));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, d + i)));
    }
}

/*
 * One sub-block of hp = 16 NV floats in registers: v = x (times d), then the Walsh-Hadamard stages, those within a
 * vector (fwht16) and those across vectors (h = 16, 32, ...: vector i with vector i + h/16). Each stage does the
 * butterflies of fwht_avx512 on the same values, so the result is the same bit for bit, without a store and
 * reload between stages.
 */
ALWAYS_INLINE void fwht_in_registers(const int NV, const float *x, const float *d, __m512 *v) {
#pragma GCC unroll 16
    for (int i = 0; i < NV; i++) {
        __m512 xi = _mm512_loadu_ps(x + 16 * i);
        v[i] = fwht16(d ? _mm512_mul_ps(xi, _mm512_loadu_ps(d + 16 * i)) : xi);
    }
    /* Unrolled completely, so that v stays in registers: as loops, gcc kept v on the stack and every butterfly went
     * through a store and a reload (the transform of a 128-float sub-block took 3x as long). */
#pragma GCC unroll 4
    for (int h = 1; h < NV; h <<= 1) {
#pragma GCC unroll 16
        for (int i = 0; i < NV; i += 2 * h) {
#pragma GCC unroll 16
            for (int j = i; j < i + h; j++) {
                __m512 a = v[j], b = v[j + h];
                v[j] = _mm512_add_ps(a, b);
                v[j + h] = _mm512_sub_ps(a, b);
            }
        }
    }
}

/* Every sub-block of a block (hm of them) transformed in registers and stored to z. */
ALWAYS_INLINE void fwht_block(const int NV, const float *x, const float *d, float *z, int hm) {
    for (int s = 0; s < hm; s++) {
        __m512 v[16];   /* NV <= 16 */
        size_t o = (size_t)s * 16 * NV;
        fwht_in_registers(NV, x + o, d ? d + o : NULL, v);
#pragma GCC unroll 16
        for (int i = 0; i < NV; i++) _mm512_storeu_ps(z + o + 16 * i, v[i]);
    }
}

/* z = the block's diagonal and fast transform (hm sub-blocks of hp floats, hp a multiple of 16). */
static void diag_fwht_block(const float *x, const float *d, float *z, int hm, int hp) {
    switch (hp) {
        case 16: fwht_block(1, x, d, z, hm); return;
        case 32: fwht_block(2, x, d, z, hm); return;
        case 64: fwht_block(4, x, d, z, hm); return;
        case 128: fwht_block(8, x, d, z, hm); return;
        case 256: fwht_block(16, x, d, z, hm); return;
        default: break;
    }
    if (d) multiply_avx512(x, d, z, hm * hp);
    else memcpy(z, x, (size_t)hm * hp * sizeof(float));
    for (int s = 0; s < hm; s++) fwht_avx512(z + (size_t)s * hp, hp);
}

/*
 * vq_mix (quant_common.h) for hp a multiple of 16, a slice of columns at a time: for the CV vectors of columns
 * [b0, b0 + 16 CV) of every sub-block, each quad's eight sums go into a small buffer that stays in L1, then every
 * output takes one of them per quad. One tile of 4 outputs by CV vectors keeps up to 16 independent FMA chains
 * (sign x sum, the sign +-1, so each fmadd is the exact product and one rounding, as the scalar add). Every output
 * sums its picks g = 0, 1, ... in order and every quad sum is formed as vq_quad_sums_at forms it: the result equals
 * vq_mix bit for bit.
 */
#define MIX_OUTPUTS 4
#define MIX_MAX_COLUMNS 4
#define MIX_BUFFER_BYTES (24 << 10)   /* the quad sums of one column slice: well inside L1 */

/* Quad g's pick for output a2: where its sum starts (floats from the slice's sums) and its sign. */
typedef struct {
    int32_t offset;
    float sign;
} quad_pick;

/* Column vectors per slice: up to 4, fewer when hp has fewer or the slice's sums would leave L1. */
static int mix_columns(int hm, int hp) {
    int cv = hp / 16 < MIX_MAX_COLUMNS ? hp / 16 : MIX_MAX_COLUMNS;
    while (cv > 1 && (size_t)2 * hm * cv * 64 > MIX_BUFFER_BYTES) cv /= 2;
    return cv;
}

/* picks[a2 * (hm / 4) + g] for slices of cv vectors (sums laid out [g][s][cv][16]), once per call. */
static void quad_picks(const float *hmat, int hm, int cv, quad_pick *picks) {
    int quads = hm / 4;
    for (int a2 = 0; a2 < hm; a2++) {
        for (int g = 0; g < quads; g++) {
            quad_pick *p = picks + (size_t)a2 * quads + g;
            int s = vq_quad_pick(hmat, hm, g, a2, &p->sign);
            p->offset = (VQ_QUAD_SUMS * g + s) * cv * 16;
        }
    }
}

/* c[g][s][cv] = the quad sums of the column slice at z (sub-blocks hp floats apart). */
ALWAYS_INLINE void slice_sums(const int CV, const float *z, float *c, int hm, int hp) {
    for (int g = 0; g < hm / 4; g++) {
        const float *zg = z + (size_t)4 * g * hp;
        float *cg = c + (size_t)VQ_QUAD_SUMS * g * CV * 16;
#pragma GCC unroll 4
        for (int j = 0; j < CV; j++) {
            __m512 z0 = _mm512_loadu_ps(zg + 16 * j), z1 = _mm512_loadu_ps(zg + hp + 16 * j);
            __m512 z2 = _mm512_loadu_ps(zg + 2 * (size_t)hp + 16 * j), z3 = _mm512_loadu_ps(zg + 3 * (size_t)hp + 16 * j);
            __m512 p0 = _mm512_add_ps(z0, z1), p1 = _mm512_sub_ps(z0, z1);
            __m512 q0 = _mm512_add_ps(z2, z3), q1 = _mm512_sub_ps(z2, z3);
            float *cj = cg + 16 * j;
            _mm512_storeu_ps(cj + 0 * CV * 16, _mm512_add_ps(p0, q0));
            _mm512_storeu_ps(cj + 1 * CV * 16, _mm512_add_ps(p1, q0));
            _mm512_storeu_ps(cj + 2 * CV * 16, _mm512_sub_ps(p0, q1));
            _mm512_storeu_ps(cj + 3 * CV * 16, _mm512_sub_ps(p1, q1));
            _mm512_storeu_ps(cj + 4 * CV * 16, _mm512_add_ps(p0, q1));
            _mm512_storeu_ps(cj + 5 * CV * 16, _mm512_add_ps(p1, q1));
            _mm512_storeu_ps(cj + 6 * CV * 16, _mm512_sub_ps(p0, q0));
            _mm512_storeu_ps(cj + 7 * CV * 16, _mm512_sub_ps(p1, q0));
        }
    }
}

/* Outputs a2 .. a2 + 3 of the slice whose sums are c, stored at y (sub-blocks hp floats apart). */
ALWAYS_INLINE void slice_outputs(const int CV, const float *c, float *y, int quads, int hp, int a2,
                                 const quad_pick *picks) {
    __m512 acc[MIX_OUTPUTS][MIX_MAX_COLUMNS];
    const quad_pick *pk[MIX_OUTPUTS];
    for (int i = 0; i < MIX_OUTPUTS; i++) pk[i] = picks + (size_t)(a2 + i) * quads;
    for (int i = 0; i < MIX_OUTPUTS; i++) {
        __m512 sign = _mm512_set1_ps(pk[i][0].sign);
#pragma GCC unroll 4
        for (int j = 0; j < CV; j++) acc[i][j] = _mm512_mul_ps(sign, _mm512_loadu_ps(c + pk[i][0].offset + 16 * j));
    }
    for (int g = 1; g < quads; g++) {
        for (int i = 0; i < MIX_OUTPUTS; i++) {
            __m512 sign = _mm512_set1_ps(pk[i][g].sign);
            const float *cs = c + pk[i][g].offset;
#pragma GCC unroll 4
            for (int j = 0; j < CV; j++) acc[i][j] = _mm512_fmadd_ps(sign, _mm512_loadu_ps(cs + 16 * j), acc[i][j]);
        }
    }
    for (int i = 0; i < MIX_OUTPUTS; i++) {
#pragma GCC unroll 4
        for (int j = 0; j < CV; j++) _mm512_storeu_ps(y + (size_t)(a2 + i) * hp + 16 * j, acc[i][j]);
    }
}

ALWAYS_INLINE void mix_slices(const int CV, const float *z, float *c, float *y, int hm, int hp,
                              const quad_pick *picks) {
    for (int b0 = 0; b0 < hp; b0 += 16 * CV) {
        slice_sums(CV, z + b0, c, hm, hp);
        for (int a2 = 0; a2 < hm; a2 += MIX_OUTPUTS) slice_outputs(CV, c, y + b0, hm / 4, hp, a2, picks);
    }
}

/* y = the H_m mix of z (hm x hp floats, hp a multiple of 16, hm of MIX_OUTPUTS); c holds a slice's sums. */
static void mix_avx512(const float *z, float *c, float *y, int hm, int hp, int cv, const quad_pick *picks) {
    switch (cv) {
        case 1: mix_slices(1, z, c, y, hm, hp, picks); break;
        case 2: mix_slices(2, z, c, y, hm, hp, picks); break;
        default: mix_slices(4, z, c, y, hm, hp, picks); break;
    }
}

/*
 * row (k floats) = x's row transformed: the diagonal, then per block the fast transform and the mix. work holds one
 * block and one slice's quad sums; picks are quad_picks' of the call (cv column vectors per slice). Sub-blocks of
 * fewer than 16 floats take the portable code, mix included.
 */
static void transform_row_avx512(const vq_quant_args *a, const float *x, float *row, float *work, const quad_pick *picks,
                                 int cv) {
    int k = a->k;
    if (!a->hblock) {
        multiply_avx512(x, a->diag, row, k);
        return;
    }
    int b = a->hblock, hp = b / a->hm;
    for (int o = 0; o < k; o += b) {
        const float *d = a->diag ? a->diag + o : NULL;
        if (hp % 16 != 0) {
            vq_rotate_block(a, x + o, d, row + o, work);
            continue;
        }
        float *z = a->hm == 1 ? row + o : work;
        diag_fwht_block(x + o, d, z, a->hm, hp);
        if (a->hm > 1) mix_avx512(z, work + b, row + o, a->hm, hp, cv, picks);
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
 * and unmapped again once it passed malloc's mmap threshold (128 KiB: a row of 8960 with its rotation block and quad
 * sums), and every unmap interrupts the process's other threads to flush their TLBs. The kernel threads are
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
    /* hm is 1 or a multiple of 4 (viditq_quantize checks), so a vector mix takes quads four outputs at a time */
    int hp = a->hblock > 0 ? a->hblock / a->hm : 0;
    int vector_mix = a->hm > 1 && hp % 16 == 0;
    int cv = vector_mix ? mix_columns(a->hm, hp) : 0;
    size_t pick_floats = vector_mix ? (size_t)a->hm * (a->hm / 4) * (sizeof(quad_pick) / sizeof(float)) : 0;
    size_t row_floats = (size_t)a->k + vq_block_scratch_floats(a);
    float *scratch = thread_scratch(row_floats + pick_floats + 16);
    if (!scratch) return -1;
    float *row = scratch, *work = scratch + a->k;
    quad_pick *picks = vector_mix ? (quad_pick *)(scratch + row_floats) : NULL;
    if (picks) quad_picks(a->hmat, a->hm, cv, picks);
    for (int r = 0; r < a->rows; r++) {
        transform_row_avx512(a, a->x + r * a->ldx, row, work, picks, cv);
        quantize_row_avx512(row, a->k, a->post, a->q + r * a->ldq, a->ldq, a->scales + r, a->rowsums + r);
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
 * STORE_ROWS: out = f * sx + bias for MR x NV vectors of per-column sums f (already times the weight scale), then
 * the call's activation.
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
                if ((a)->activation == VQ_ACT_GELU_TANH) o_ = vq_gelu_tanh_avx512(o_);               \
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
                                    group_sums_avx512, 1};

#pragma GCC pop_options

#endif
