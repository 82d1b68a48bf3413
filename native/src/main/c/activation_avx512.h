/*
 * GELU (tanh form) on 16 floats: vq_gelu_tanh of quant_common.h lane by lane, the same operations in the same order
 * (and so dev.viditq.core.kernels.VectorMath.geluTanh's bits). Include after the target pragma (or in a file compiled
 * with the AVX-512 flags): the functions take the target of the includer. The GEMM epilogues apply it to outputs
 * still in registers when vq_gemm_args.activation asks.
 */
#ifndef VIDITQ_ACTIVATION_AVX512_H
#define VIDITQ_ACTIVATION_AVX512_H

#include <immintrin.h>

static inline __m512 vq_exp_avx512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.33654f), hi = _mm512_set1_ps(88.37626f), rounder = _mm512_set1_ps(12582912.0f);
    __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    __m512 c = _mm512_mask_blend_ps(under, x, lo);
    c = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(c, hi, _CMP_GT_OQ), c, hi);
    __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(1.44269504088896341f), rounder);
    __m512 n = _mm512_sub_ps(t, rounder);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693359375f), c);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 5040), _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(127 - 0x4B400000)), 23);
    return _mm512_maskz_mul_ps((__mmask16)~under, p, _mm512_castsi512_ps(bits));
}

static inline __m512 vq_gelu_tanh_avx512(__m512 x) {
    __m512 u = _mm512_fmadd_ps(_mm512_mul_ps(x, x), _mm512_set1_ps(0.044715f), _mm512_set1_ps(1.0f));
    u = _mm512_mul_ps(_mm512_mul_ps(u, x), _mm512_set1_ps(0.7978845608028654f));
    __m512 e = vq_exp_avx512(_mm512_mul_ps(u, _mm512_set1_ps(-2.0f)));
    return _mm512_div_ps(x, _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
}

#endif
