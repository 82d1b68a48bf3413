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
 * The H_m factor of H_m (x) H_p: y[a2][b] = sum_a hmat[a][a2] * z[a][b], summed in the order a = 0, 1, ...
 * Entries are +-1, so h * z is exact and each step rounds once (with or without FMA contraction).
 */
static inline void vq_mix(const float *z, float *y, int hm, int hp, const float *hmat) {
    for (int a2 = 0; a2 < hm; a2++) {
        float *yo = y + (size_t)a2 * hp;
        float h0 = hmat[a2];
        for (int b = 0; b < hp; b++) yo[b] = h0 * z[b];
        for (int a = 1; a < hm; a++) {
            float h = hmat[(size_t)a * hm + a2];
            const float *za = z + (size_t)a * hp;
            for (int b = 0; b < hp; b++) yo[b] = yo[b] + h * za[b];
        }
    }
}

/* One block of the rotation: dst = (x .* diag) H_b, unnormalized; tmp holds b floats when hm > 1. */
static inline void vq_rotate_block(const vq_quant_args *a, const float *x, const float *diag, float *dst, float *tmp) {
    int b = a->hblock, hp = b / a->hm;
    float *work = a->hm == 1 ? dst : tmp;
    if (diag) {
        for (int i = 0; i < b; i++) work[i] = x[i] * diag[i];
    } else {
        memcpy(work, x, (size_t)b * sizeof(float));
    }
    for (int s = 0; s < a->hm; s++) vq_fwht(work + (size_t)s * hp, hp);
    if (a->hm > 1) vq_mix(work, dst, a->hm, hp, a->hmat);
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

/* Scratch for one call: a transformed row and one rotation block. */
static inline float *vq_scratch(const vq_quant_args *a) {
    size_t floats = (size_t)a->k + (size_t)(a->hblock > 0 ? a->hblock : 0) + 16;
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
