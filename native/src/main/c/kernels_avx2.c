/*
 * AVX2 implementation, for x86-64 CPUs without AVX-512 VNNI. Every function here is compiled for the target
 * "avx2,fma,bmi2" (the pragma below gives each function that target attribute) and runs only after dispatch.c
 * has checked the CPU flags. The quantizer is the portable code compiled for AVX2 (gcc
 * vectorizes its loops); the GEMMs are hand-written.
 *
 * Without vpdpbusd, 4 weights (u8, zero-extended to s16) of one column are multiplied with 4 activations
 * (s8 -> s16, broadcast) by vpmaddwd, which adds pairs into s32 exactly (vpmaddubsw would saturate at
 * 255 * 127 * 2). Each column keeps two partial sums that are added at the end of the tile (or group).
 * Tiles: 2 rows x 16 columns (8 ymm accumulators).
 */
#if defined(__x86_64__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi2")

#include "quant_common.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define TR 2   /* rows per tile */

static inline int32_t load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static int quantize_avx2(const vq_quant_args *a) {
    return vq_quantize_portable_body(a);
}

static void group_sums_avx2(const int8_t *q, int64_t ldq, int rows, int k, int group, int groups, int32_t *out) {
    vq_group_sums_body(q, ldq, rows, k, group, groups, out);
}

/* 4 activations of one row, sign-extended to s16 and repeated in all four 64-bit lanes. */
static inline __m256i broadcast4(const int8_t *p) {
    return _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(load_i32(p))));
}

/* Columns 0..7 of a 16-column block from accumulators of chunks 0 and 1 (each: 4 columns x 2 partials). */
static inline __m256i fold_pairs(__m256i c01, __m256i c23) {
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(c01, c23), 0xD8);
}

static inline __m256i lane_mask(int valid) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx);
}

/* Two 8-column halves of integer sums -> f = (float)(sum - wz * qsum) * ws, or fma into f when grouped. */
ALWAYS_INLINE void scale_sums(__m256i sum[2], const int32_t *wz, const float *ws, int32_t qsum, int grouped,
                              __m256 f[2]) {
    for (int h = 0; h < 2; h++) {
        __m256i corr = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(wz + 8 * h)), _mm256_set1_epi32(qsum));
        __m256 t = _mm256_cvtepi32_ps(_mm256_sub_epi32(sum[h], corr));
        __m256 s = _mm256_loadu_ps(ws + 8 * h);
        f[h] = grouped ? _mm256_fmadd_ps(t, s, f[h]) : _mm256_mul_ps(t, s);
    }
}

ALWAYS_INLINE void store_block(__m256 f[2], const vq_gemm_args *a, int r, int c) {
    int cols = a->col1 - c;
    __m256 sx = _mm256_set1_ps(a->sx[r]);
    for (int h = 0; h < 2 && 8 * h < cols; h++) {
        __m256i m = lane_mask(cols - 8 * h);
        __m256 o = _mm256_mul_ps(f[h], sx);
        if (a->bias) o = _mm256_add_ps(o, _mm256_maskload_ps(a->bias + c + 8 * h, m));
        _mm256_maskstore_ps(a->out + r * a->ldo + c + 8 * h, m, o);
    }
}

/* Integer sums of MR rows x 16 columns over k-steps [s0, s1) of the int8 layout (block at panel offset cb). */
ALWAYS_INLINE void w8_sums(const int MR, const vq_gemm_args *a, int r0, const uint8_t *wp, int cb, int s0, int s1,
                           __m256i sum[TR][2]) {
    __m256i acc[TR][4];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_si256();
    for (int s = s0; s < s1; s++) {
        const uint8_t *wsp = wp + (size_t)s * VQ_STEP_BYTES + 4 * cb;
        __m256i w[4];
        for (int c = 0; c < 4; c++) w[c] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(wsp + 16 * c)));
        for (int r = 0; r < MR; r++) {
            __m256i x = broadcast4(a->q + (r0 + r) * a->ldq + 4 * s);
            for (int c = 0; c < 4; c++) acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(w[c], x));
        }
    }
    for (int r = 0; r < MR; r++) {
        sum[r][0] = fold_pairs(acc[r][0], acc[r][1]);
        sum[r][1] = fold_pairs(acc[r][2], acc[r][3]);
    }
}

/* The same for the int4 layout: low nibbles are k..k+3, high nibbles k+4..k+7 of each step. */
ALWAYS_INLINE void w4_sums(const int MR, const vq_gemm_args *a, int r0, const uint8_t *wp, int cb, int s0, int s1,
                           __m256i sum[TR][2]) {
    const __m128i nib = _mm_set1_epi8(0x0F);
    __m256i acc[TR][4];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_si256();
    for (int s = s0; s < s1; s++) {
        const uint8_t *wsp = wp + (size_t)s * VQ_STEP_BYTES + 4 * cb;
        __m256i x0[TR], x1[TR];
        for (int r = 0; r < MR; r++) {
            const int8_t *qr = a->q + (r0 + r) * a->ldq + 8 * s;
            x0[r] = broadcast4(qr);
            x1[r] = broadcast4(qr + 4);
        }
        for (int c = 0; c < 4; c++) {
            __m128i raw = _mm_loadu_si128((const __m128i *)(wsp + 16 * c));
            __m256i lo = _mm256_cvtepu8_epi16(_mm_and_si128(raw, nib));
            __m256i hi = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), nib));
            for (int r = 0; r < MR; r++) {
                acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(lo, x0[r]));
                acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(hi, x1[r]));
            }
        }
    }
    for (int r = 0; r < MR; r++) {
        sum[r][0] = fold_pairs(acc[r][0], acc[r][1]);
        sum[r][1] = fold_pairs(acc[r][2], acc[r][3]);
    }
}

ALWAYS_INLINE void w8_block(const int MR, const vq_gemm_args *a, int r0, const uint8_t *wp, int c0, int cb) {
    __m256i sum[TR][2];
    w8_sums(MR, a, r0, wp, cb, 0, a->kpad / 4, sum);
    for (int r = 0; r < MR; r++) {
        __m256 f[2];
        scale_sums(sum[r], a->wz + c0 + cb, a->ws + c0 + cb, a->qsum[r0 + r], 0, f);
        store_block(f, a, r0 + r, c0 + cb);
    }
}

ALWAYS_INLINE void w4_block(const int MR, const vq_gemm_args *a, int r0, const uint8_t *wp, int c0, int cb) {
    int steps = a->kpad / 8;
    __m256 f[TR][2];
    for (int r = 0; r < MR; r++) f[r][0] = f[r][1] = _mm256_setzero_ps();
    for (int g = 0; g < a->groups; g++) {
        int s0 = g * a->group_steps, s1 = s0 + a->group_steps < steps ? s0 + a->group_steps : steps;
        __m256i sum[TR][2];
        w4_sums(MR, a, r0, wp, cb, s0, s1, sum);
        size_t o = (size_t)g * a->npad + c0 + cb;
        for (int r = 0; r < MR; r++) {
            scale_sums(sum[r], a->wz + o, a->ws + o, a->qsum[(int64_t)(r0 + r) * a->groups + g], a->groups > 1, f[r]);
        }
    }
    for (int r = 0; r < MR; r++) store_block(f[r], a, r0 + r, c0 + cb);
}

static void gemm_avx2(const vq_gemm_args *a, int int4) {
    size_t panel_bytes = (size_t)VQ_NR * (int4 ? a->kpad / 2 : a->kpad);
    for (int m0 = 0; m0 < a->rows; m0 += VQ_MC) {
        int m1 = m0 + VQ_MC < a->rows ? m0 + VQ_MC : a->rows;
        for (int c0 = a->col0; c0 < a->col1; c0 += VQ_NR) {
            const uint8_t *wp = a->w + (size_t)(c0 / VQ_NR) * panel_bytes;
            for (int cb = 0; cb < VQ_NR && c0 + cb < a->col1; cb += 16) {
                int r0 = m0;
                for (; r0 + TR <= m1; r0 += TR) {
                    if (int4) w4_block(TR, a, r0, wp, c0, cb); else w8_block(TR, a, r0, wp, c0, cb);
                }
                if (r0 < m1) {
                    if (int4) w4_block(1, a, r0, wp, c0, cb); else w8_block(1, a, r0, wp, c0, cb);
                }
            }
        }
    }
}

static void gemm_w8a8_avx2(const vq_gemm_args *a) {
    gemm_avx2(a, 0);
}

static void gemm_w4a8_avx2(const vq_gemm_args *a) {
    gemm_avx2(a, 1);
}

const vq_impl vq_impl_avx2 = {"avx2", quantize_avx2, gemm_w8a8_avx2, gemm_w4a8_avx2, group_sums_avx2, 0};

#pragma GCC pop_options

#endif
