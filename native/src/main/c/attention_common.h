/*
 * What the two BF16 attention kernels share (kernels_amx.c on tiles, kernels_bf16.c with vdpbf16ps): the sizes of
 * the packed operands of vq_attention_pack and the e^x of the online softmax. Include after the target pragma (or
 * in a file compiled with the AVX-512 flags): the functions take the target of the includer.
 */
#ifndef VIDITQ_ATTENTION_COMMON_H
#define VIDITQ_ATTENTION_COMMON_H

#include <immintrin.h>

static inline int round_up(int v, int m) {
    return (v + m - 1) / m * m;
}

/* The packed sizes in elements (Java allocates them through viditq_attention_sizes). */
static inline void attention_dims(int lq, int lk, int d, int *lq32, int *lk32, int *dq, int *groups) {
    *lq32 = round_up(lq, 32);
    *lk32 = round_up(lk, 32);
    *dq = round_up(d, 32);
    *groups = (d + 15) / 16;
}

/* e^x for x <= 0 (scores minus their running max), 0 below -87.3 and for -inf; the series of VectorMath.exp. */
static inline __m512 exp_nonpositive(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.3f);
    __mmask16 underflow = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_max_ps(x, lo);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 5040), _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(~underflow, p, n);
}

/* The lanes of 16 keys from key0 that exist when `left` = lk - key0 keys are left (none when left <= 0). */
static inline __mmask16 keys_left(int left) {
    return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u);
}

/*
 * The additive terms of one query's scores at keys [key0, key0 + 16): the key bias plus the head's bias row, and
 * -inf for keys at or past lk (padding), so that s = scale * (q.k) + these. Lanes past lk read nothing.
 */
static inline __m512 attention_bias16(const float *key_bias, const float *head_row, int key0, int lk) {
    __mmask16 valid = keys_left(lk - key0);
    __m512 add = key_bias ? _mm512_maskz_loadu_ps(valid, key_bias + key0) : _mm512_setzero_ps();
    if (head_row) add = _mm512_add_ps(add, _mm512_maskz_loadu_ps(valid, head_row + key0));
    return _mm512_mask_blend_ps(valid, _mm512_set1_ps(-__builtin_inff()), add);
}

#endif
