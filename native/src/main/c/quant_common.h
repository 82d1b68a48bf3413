/*
 * Portable pieces of the activation quantizer and the GEMM epilogue. Every ISA file includes this header, so
 * the functions are compiled once per target (the portable file plainly, the AVX2 file under its target
 * pragma) and the fast paths reuse them for tails. They define the arithmetic the Java side reproduces
 * bit for bit: same operations, same order.
 */
#ifndef VIDITQ_QUANT_COMMON_H
#define VIDITQ_QUANT_COMMON_H

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "viditq.h"

/* In-place unnormalized Walsh-Hadamard transform (Sylvester order) of p = 2^j values. */
static inline void vq_fwht(float *v, int p) {
    for (int h = 1; h < p; h <<= 1) {
        for (int i = 0; i < p; i += h << 1) {
            for (int j = i; j < i + h; j++) {
                float a = v[j], b = v[j + h];
                v[j] = a + b;
                v[j + h] = a - b;
            }
        }
    }
}

/*
 * The H_m factor of H_m (x) H_p: y[a2][b] = sum_a hmat[a][a2] * z[a][b], computed by quads of a (m is a multiple
 * of 4: every Paley order is). For quad g (a = 4g .. 4g+3) the eight sums z0 +- z1 +- z2 +- z3 with z0's sign +
 * are formed once, 12 additions per quad; each output then adds, per quad, the one sum its column of hmat selects,
 * times that column's sign on z0: m/4 additions per output instead of m. Entries are +-1, so every product here is
 * exact and every addition rounds once, in a fixed order: the sums as vq_quad_sums writes them, then quads
 * g = 0, 1, ... per output. RotationMath (Java) does the same operations in the same order.
 */
#define VQ_QUAD_SUMS 8

/*
 * Which of quad g's sums output a2 takes (index s1 + 2 s2 + 4 s3, s_i = 1 where hmat[4g+i][a2] differs from
 * hmat[4g][a2]) and with which sign (hmat[4g][a2]).
 */
static inline int vq_quad_pick(const float *hmat, int hm, int g, int a2, float *sign) {
    const float *h = hmat + (size_t)4 * g * hm + a2;
    float h0 = h[0];
    *sign = h0;
    return (h[hm] != h0) | (h[2 * (size_t)hm] != h0) << 1 | (h[3 * (size_t)hm] != h0) << 2;
}

/* The eight sums of one quad at one position, sums[index] as vq_quad_pick numbers them. */
static inline void vq_quad_sums_at(float z0, float z1, float z2, float z3, float *sums, size_t stride) {
    float p0 = z0 + z1, p1 = z0 - z1, q0 = z2 + z3, q1 = z2 - z3;
    sums[0 * stride] = p0 + q0;   /* + + + */
    sums[1 * stride] = p1 + q0;   /* - + + */
    sums[2 * stride] = p0 - q1;   /* + - + */
    sums[3 * stride] = p1 - q1;   /* - - + */
    sums[4 * stride] = p0 + q1;   /* + + - */
    sums[5 * stride] = p1 + q1;   /* - + - */
    sums[6 * stride] = p0 - q0;   /* + - - */
    sums[7 * stride] = p1 - q0;   /* - - - */
}

/* c[g][s][b] (VQ_QUAD_SUMS * hm / 4 rows of hp floats: twice the block) for every quad g of z[hm][hp]. */
static inline void vq_quad_sums(const float *z, float *c, int hm, int hp) {
    for (int g = 0; g < hm / 4; g++) {
        const float *zg = z + (size_t)4 * g * hp;
        float *cg = c + (size_t)VQ_QUAD_SUMS * g * hp;
        for (int b = 0; b < hp; b++) {
            vq_quad_sums_at(zg[b], zg[hp + b], zg[2 * (size_t)hp + b], zg[3 * (size_t)hp + b], cg + b, (size_t)hp);
        }
    }
}

/* y = H_m-mix of z; c holds 2 * hm * hp floats (the quad sums). */
static inline void vq_mix(const float *z, float *c, float *y, int hm, int hp, const float *hmat) {
    vq_quad_sums(z, c, hm, hp);
    for (int a2 = 0; a2 < hm; a2++) {
        float *yo = y + (size_t)a2 * hp;
        for (int g = 0; g < hm / 4; g++) {
            float sign;
            int s = vq_quad_pick(hmat, hm, g, a2, &sign);
            const float *cs = c + (size_t)(VQ_QUAD_SUMS * g + s) * hp;
            if (g == 0) {
                for (int b = 0; b < hp; b++) yo[b] = sign * cs[b];
            } else {
                for (int b = 0; b < hp; b++) yo[b] = yo[b] + sign * cs[b];
            }
        }
    }
}

/* Floats of quantizer scratch beside the transformed row: the rotation block and its quad sums. */
static inline size_t vq_block_scratch_floats(const vq_quant_args *a) {
    return a->hblock > 0 ? (size_t)3 * a->hblock : 0;
}

/* One block of the rotation: dst = (x .* diag) H_b, unnormalized; tmp holds 3 b floats when hm > 1. */
static inline void vq_rotate_block(const vq_quant_args *a, const float *x, const float *diag, float *dst, float *tmp) {
    int b = a->hblock, hp = b / a->hm;
    float *work = a->hm == 1 ? dst : tmp;
    if (diag) {
        for (int i = 0; i < b; i++) work[i] = x[i] * diag[i];
    } else {
        memcpy(work, x, (size_t)b * sizeof(float));
    }
    for (int s = 0; s < a->hm; s++) vq_fwht(work + (size_t)s * hp, hp);
    if (a->hm > 1) vq_mix(work, tmp + b, dst, a->hm, hp, a->hmat);
}

/* The transformed row: x itself when there is nothing to do, else written into row (k floats). */
static inline const float *vq_transform_row(const vq_quant_args *a, const float *x, float *row, float *tmp) {
    if (!a->diag && !a->hblock) return x;
    if (!a->hblock) {
        for (int i = 0; i < a->k; i++) row[i] = x[i] * a->diag[i];
        return row;
    }
    for (int o = 0; o < a->k; o += a->hblock) {
        vq_rotate_block(a, x + o, a->diag ? a->diag + o : NULL, row + o, tmp);
    }
    return row;
}

/* amax -> (scale, 1/scale without the normalization); a zero row gets scale 0 and all-zero q. */
static inline float vq_inverse_step(float amax) {
    return amax > 0.0f ? 127.0f / amax : 0.0f;
}

static inline float vq_scale(float amax, float post) {
    return amax * post / 127.0f;
}

static inline void vq_quantize_row_portable(const float *y, int k, float post, int8_t *q, int64_t ldq,
                                            float *scale, int32_t *rowsum) {
    float amax = 0.0f;
    for (int i = 0; i < k; i++) {
        float v = fabsf(y[i]);
        amax = v > amax ? v : amax;
    }
    float inv = vq_inverse_step(amax);
    int32_t sum = 0;
    for (int i = 0; i < k; i++) {
        float v = nearbyintf(y[i] * inv);   /* round half to even, as cvtps2dq and Java's Math.rint */
        v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
        int qi = (int)v;
        q[i] = (int8_t)qi;
        sum += qi;
    }
    memset(q + k, 0, (size_t)(ldq - k));
    *scale = vq_scale(amax, post);
    *rowsum = sum;
}

/* Scratch for one call: a transformed row, one rotation block and its quad sums. */
static inline float *vq_scratch(const vq_quant_args *a) {
    size_t floats = (size_t)a->k + vq_block_scratch_floats(a) + 16;
    size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
    return (float *)aligned_alloc(64, bytes);
}

static inline int vq_quantize_portable_body(const vq_quant_args *a) {
    float *scratch = vq_scratch(a);
    if (!scratch) return -1;
    float *row = scratch, *tmp = scratch + a->k;
    for (int r = 0; r < a->rows; r++) {
        const float *y = vq_transform_row(a, a->x + r * a->ldx, row, tmp);
        vq_quantize_row_portable(y, a->k, a->post, a->q + r * a->ldq, a->ldq, a->scales + r, a->rowsums + r);
    }
    free(scratch);
    return 0;
}

/* Sums of q per group of k, the zero-point term of grouped int4 weights. */
static inline void vq_group_sums_body(const int8_t *q, int64_t ldq, int rows, int k, int group, int groups,
                                      int32_t *out) {
    for (int r = 0; r < rows; r++) {
        const int8_t *qr = q + r * ldq;
        for (int g = 0; g < groups; g++) {
            int k0 = g * group, k1 = k0 + group < k ? k0 + group : k;
            int32_t s = 0;
            for (int i = k0; i < k1; i++) s += qr[i];
            out[(int64_t)r * groups + g] = s;
        }
    }
}

/*
 * e^x and GELU (tanh form) of one float, as dev.viditq.core.kernels.VectorMath computes them per lane: the same
 * operations in the same order (fmaf where it fuses), so the bits are the same. e^x: Cody-Waite reduction by
 * n = round(x log2 e), a degree-7 Taylor series, times 2^n built in the exponent field; 0 below -87.33654 (the
 * smallest normal float's log), the argument clamped at 88.37626. gelu(x) = x / (1 + e^(-2u)),
 * u = sqrt(2/pi) (x + 0.044715 x^3).
 */
static inline float vq_exp(float x) {
    const float rounder = 12582912.0f;   /* 1.5 * 2^23: adding it rounds to an integer in the low mantissa bits */
    float c = x < -87.33654f ? -87.33654f : (x > 88.37626f ? 88.37626f : x);
    float t = fmaf(c, 1.44269504088896341f, rounder);
    float n = t - rounder;
    float r = fmaf(n, -0.693359375f, c);
    r = fmaf(n, 2.12194440e-4f, r);
    float p = fmaf(r, 1.0f / 5040, 1.0f / 720);
    p = fmaf(p, r, 1.0f / 120);
    p = fmaf(p, r, 1.0f / 24);
    p = fmaf(p, r, 1.0f / 6);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    uint32_t bits;
    memcpy(&bits, &t, 4);
    bits = (bits + (uint32_t)(127 - 0x4B400000)) << 23;
    float two;
    memcpy(&two, &bits, 4);
    return x < -87.33654f ? 0.0f : p * two;
}

static inline float vq_gelu_tanh(float x) {
    float u = fmaf(x * x, 0.044715f, 1.0f) * x * 0.7978845608028654f;
    return x / (vq_exp(u * -2.0f) + 1.0f);
}

/* The activation of a GEMM call over its outputs (rows x [col0, col1)), for implementations that do not fuse it. */
static inline void vq_activate_outputs(const vq_gemm_args *a) {
    if (a->activation != VQ_ACT_GELU_TANH) return;
    for (int r = 0; r < a->rows; r++) {
        float *o = a->out + r * a->ldo;
        for (int c = a->col0; c < a->col1; c++) o[c] = vq_gelu_tanh(o[c]);
    }
}

/* Epilogue of one output: f is the weight-scaled sum; out = f * sx (+ bias). */
static inline float vq_finish(float f, float sx, const float *bias, int c) {
    float o = f * sx;
    return bias ? o + bias[c] : o;
}

/* The portable GEMMs: plain loops over the packed layout, the reference every fast path must equal. */
static inline void vq_gemm_w8a8_portable_body(const vq_gemm_args *a) {
    int steps = a->kpad / 4;
    int32_t acc[VQ_NR];
    for (int c0 = a->col0; c0 < a->col1; c0 += VQ_NR) {
        const uint8_t *wp = a->w + (size_t)(c0 / VQ_NR) * VQ_NR * a->kpad;
        int cols = a->col1 - c0 < VQ_NR ? a->col1 - c0 : VQ_NR;
        for (int r = 0; r < a->rows; r++) {
            const int8_t *qr = a->q + r * a->ldq;
            memset(acc, 0, sizeof acc);
            for (int s = 0; s < steps; s++) {
                const uint8_t *ws = wp + (size_t)s * VQ_STEP_BYTES;
                int32_t x0 = qr[4 * s], x1 = qr[4 * s + 1], x2 = qr[4 * s + 2], x3 = qr[4 * s + 3];
                for (int c = 0; c < VQ_NR; c++) {   /* 4 consecutive bytes per column: vectorizes over c */
                    acc[c] += ws[4 * c] * x0 + ws[4 * c + 1] * x1 + ws[4 * c + 2] * x2 + ws[4 * c + 3] * x3;
                }
            }
            for (int c = 0; c < cols; c++) {
                int col = c0 + c;
                float t = (float)(acc[c] - a->wz[col] * a->qsum[r]);
                a->out[r * a->ldo + col] = vq_finish(t * a->ws[col], a->sx[r], a->bias, col);
            }
        }
    }
}

static inline void vq_gemm_w4a8_portable_body(const vq_gemm_args *a) {
    int steps = a->kpad / 8;
    int32_t acc[VQ_NR];
    float f[VQ_NR];
    for (int c0 = a->col0; c0 < a->col1; c0 += VQ_NR) {
        const uint8_t *wp = a->w + (size_t)(c0 / VQ_NR) * VQ_NR * (a->kpad / 2);
        int cols = a->col1 - c0 < VQ_NR ? a->col1 - c0 : VQ_NR;
        for (int r = 0; r < a->rows; r++) {
            const int8_t *qr = a->q + r * a->ldq;
            for (int c = 0; c < VQ_NR; c++) f[c] = 0.0f;
            for (int g = 0; g < a->groups; g++) {
                int s0 = g * a->group_steps, s1 = s0 + a->group_steps < steps ? s0 + a->group_steps : steps;
                memset(acc, 0, sizeof acc);
                for (int s = s0; s < s1; s++) {
                    const uint8_t *ws = wp + (size_t)s * VQ_STEP_BYTES;
                    const int8_t *x = qr + 8 * s;
                    for (int c = 0; c < VQ_NR; c++) {   /* low nibbles: k = 8s + j, high: 8s + 4 + j */
                        const uint8_t *b = ws + 4 * c;
                        acc[c] += (b[0] & 15) * x[0] + (b[1] & 15) * x[1] + (b[2] & 15) * x[2] + (b[3] & 15) * x[3]
                                + (b[0] >> 4) * x[4] + (b[1] >> 4) * x[5] + (b[2] >> 4) * x[6] + (b[3] >> 4) * x[7];
                    }
                }
                const float *sg = a->ws + (size_t)g * a->npad + c0;
                const int32_t *zg = a->wz + (size_t)g * a->npad + c0;
                int32_t qs = a->qsum[r * a->groups + g];
                for (int c = 0; c < cols; c++) {
                    float t = (float)(acc[c] - zg[c] * qs);
                    f[c] = a->groups == 1 ? t * sg[c] : fmaf(t, sg[c], f[c]);
                }
            }
            for (int c = 0; c < cols; c++) {
                int col = c0 + c;
                a->out[r * a->ldo + col] = vq_finish(f[c], a->sx[r], a->bias, col);
            }
        }
    }
}

#endif
