/*
 * What the two BF16 attention kernels share (kernels_amx.c on tiles, kernels_bf16.c with vdpbf16ps): the sizes of
 * the packed operands of vq_attention_pack and the e^x of the online softmax. Include after the target pragma (or
 * in a file compiled with the AVX-512 flags): the functions take the target of the includer.
 */
#ifndef VIDITQ_ATTENTION_COMMON_H
#define VIDITQ_ATTENTION_COMMON_H

#include <immintrin.h>
#include <stdint.h>

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

/*
 * 2^t = 2^n * 2^f with n = round(t), |f| <= 1/2, and 2^f by a degree-3 minimax polynomial (relative error below
 * 7.5e-5, far below the 2^-9 of the bf16 rounding of the probabilities that use it and of the BF16 products).
 * 0 where t < -126 (past FP32's normal range; -inf included), so that no denormal reaches the products. With t from
 * one fused multiply-subtract, e^x is eight vector operations: the softmax is the largest cost beside the products
 * (on the AMX host, half of a 1024-key head's time), and a degree-5 series cost two more.
 */
static inline __m512 exp2_poly(__m512 t) {
    __mmask16 normal = _mm512_cmp_ps_mask(t, _mm512_set1_ps(-126.0f), _CMP_GE_OQ);
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_fmadd_ps(f, _mm512_set1_ps(5.5172425e-2f), _mm512_set1_ps(2.4261123e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9326085e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.9992806e-1f));
    return _mm512_maskz_scalef_ps(normal, p, n);
}

/* e^(x - m) for x <= m, given mlog2e = m * log2(e): 2^t with t = x * log2(e) - mlog2e. */
static inline __m512 exp_shifted(__m512 x, __m512 mlog2e) {
    return exp2_poly(_mm512_fmsub_ps(x, _mm512_set1_ps(1.44269504f), mlog2e));
}

/*
 * e^(s * x - m) for raw scores x of scale s, given c = s * log2(e) and mlog2e = m * log2(e): the scale folded into
 * the exponent's multiply-subtract, so that scores without biases need no pass that scales them first.
 */
static inline __m512 exp_scaled_shifted(__m512 x, __m512 c, __m512 mlog2e) {
    return exp2_poly(_mm512_fmsub_ps(x, c, mlog2e));
}

/* The second operand of exp_shifted for a running max m (finite, or 0 in place of -inf). */
static inline __m512 log2e_times(__m512 m) {
    return _mm512_mul_ps(m, _mm512_set1_ps(1.44269504f));
}

/* The cache lines of n floats from p, requested ahead of their reading. */
static inline void prefetch_floats(const float *p, int n) {
    uintptr_t line = (uintptr_t)p & ~(uintptr_t)63, last = ((uintptr_t)(p + n) - 1) & ~(uintptr_t)63;
    for (; line <= last; line += 64) _mm_prefetch((const char *)line, _MM_HINT_T0);
}

/*
 * The same lines requested for writing (PREFETCHW, which every x86-64 CPU with AVX-512 has), of `rows` rows ldo
 * floats apart: the attention's output rows of the next query block (a head's columns of rows a model width apart),
 * so that their ownership arrives while this block computes rather than stalling its stores.
 */
static inline void prefetch_rows_for_write(const float *out, int64_t ldo, int rows, int n) {
    for (int r = 0; r < rows; r++) {
        uintptr_t line = (uintptr_t)(out + r * ldo) & ~(uintptr_t)63;
        uintptr_t last = ((uintptr_t)(out + r * ldo + n) - 1) & ~(uintptr_t)63;
        for (; line <= last; line += 64) __asm__ volatile("prefetchw %0" : : "m"(*(const char *)line));
    }
}

/* The first `left` of 16 lanes (none when left <= 0): the keys from key0 that exist when left = lk - key0, the
 * dimensions from c when left = d - c. */
static inline __mmask16 lanes_left(int left) {
    return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u);
}

/*
 * The additive terms of one query's scores at keys [key0, key0 + 16): the key bias plus the head's bias row, and
 * -inf for keys at or past lk (padding), so that s = scale * (q.k) + these. Lanes past lk read nothing.
 */
static inline __m512 attention_bias16(const float *key_bias, const float *head_row, int key0, int lk) {
    __mmask16 valid = lanes_left(lk - key0);
    __m512 add = key_bias ? _mm512_maskz_loadu_ps(valid, key_bias + key0) : _mm512_setzero_ps();
    if (head_row) add = _mm512_add_ps(add, _mm512_maskz_loadu_ps(valid, head_row + key0));
    return _mm512_mask_blend_ps(valid, _mm512_set1_ps(-__builtin_inff()), add);
}

#endif
