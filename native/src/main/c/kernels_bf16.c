/*
 * Float GEMM in BF16 x BF16 -> FP32 with AVX-512 BF16 (vdpbf16ps), for CPUs with BF16 but no AMX (AMD Zen 4/5),
 * the float-to-bf16 conversion of activations (also used by the AMX kernels), and the vdpbf16ps ceiling.
 * Compiled for "avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma"; runs only after dispatch.c checked the CPU.
 *
 * vdpbf16ps multiplies 16 pairs of bf16 by 16 pairs and adds both products of each pair to an FP32 lane: twice
 * the multiply-adds of an FP32 FMA per instruction. The tile is the int8 kernel's: 8 rows x 48 columns
 * (24 zmm accumulators); a step loads the panel's 3 vectors (16 columns x one k pair each) and broadcasts one
 * k pair per row.
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")

#include "viditq.h"
#include "tile_dispatch.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define BF16_MC 64   /* rows per block: 64 rows of bf16 activations (147 KiB at k = 1152) stay in L2 */

/* acc += pairs(b) . pairs(x). Inline asm for the reason given at DPBUSD in kernels_avx512.c. */
#define DPBF16(acc, b, x) __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(b), "v"(x))

static inline __mmask16 tail_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* a[r][0, lda) = bf16(x[r][0, k)), rounded to nearest even, then zeros. */
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
