/*
 * viditq native integer kernels: shared declarations.
 *
 * Layouts (the Java side, dev.viditq.core.kernels.quant, builds them; keep both in step):
 *
 *  Activations: int8 q[rows][ldq], symmetric, q = clamp(rint(y / scale), -127, 127), ldq a multiple of 64,
 *  bytes past k are zero. scales[rows] float, rowsums[rows] int32 = sum of q over the row.
 *
 *  Weights are stored unsigned: u = q + 128 (int8) or u = q + 8 (int4), zero points likewise, so that
 *  W = s * (u - z) and the u8 x s8 instruction vpdpbusd takes weights as its unsigned operand and activations
 *  (broadcast) as its signed one. The zero-point term is subtracted once per output:
 *      sum_k q[k] * (u[k] - z) = sum_k q[k] * u[k] - z * sum_k q[k].
 *
 *  Both weight layouts are cut into panels of VQ_NR = 48 output columns (n padded with zero columns).
 *  One panel is a sequence of k-steps of VQ_NR * 4 = 192 bytes; in a step, column c owns bytes [4c, 4c + 4):
 *    int8: step s holds k = 4s .. 4s+3, byte j of column c = u8 of W[c][4s + j]          (kpad = k rounded to 4)
 *    int4: step s holds k = 8s .. 8s+7, byte j of column c = u4 of W[c][8s + j] in the low nibble and
 *          u4 of W[c][8s + 4 + j] in the high nibble                                  (kpad = k rounded to 8)
 *  Padding (columns >= n, k >= k) holds u = 0, so it adds nothing to the sums.
 *
 *  Weight scales and zero points: ws[g * npad + c], wz[g * npad + c] for group g (int8: one group).
 *  Output: out[r * ldo + c] = (float)(acc) * ws * sx[r] + bias[c]; grouped int4 sums the groups first:
 *      f = sum_g fma((float)(acc_g - z_g * gsum[r][g]), ws_g, f);  out = f * sx[r] + bias[c].
 *  Every implementation (C per ISA, Java) evaluates exactly these float operations in this order, so their
 *  outputs are bitwise equal.
 */
#ifndef VIDITQ_H
#define VIDITQ_H

#include <stdint.h>
#include <stddef.h>

#define VQ_ABI_VERSION 5   /* NativeLibrary.ABI_VERSION must match */
#define VQ_NR 48                       /* output columns per weight panel */
#define VQ_STEP_BYTES (VQ_NR * 4)      /* bytes per k-step of one panel */
#define VQ_MC 64                       /* rows per block: keeps a block of activations in L2 */

/* Per-token activation quantization with optional diagonal multiplier and block Hadamard rotation. */
typedef struct {
    const float *x;        /* [rows][ldx] */
    int64_t ldx;
    int rows, k;
    const float *diag;     /* [k]: balancing vector times random signs, or NULL */
    int hblock;            /* Hadamard block size b dividing k, or 0 for no rotation */
    int hm;                /* b = hm * hp with hp a power of two; hm == 1: Sylvester only, else a multiple of 4 */
    const float *hmat;     /* [hm][hm] entries +-1 (rows: input index), NULL when hm == 1 */
    float post;            /* multiplies the scale: 1/sqrt(b) with rotation, else 1 */
    int8_t *q;             /* [rows][ldq] */
    int64_t ldq;
    float *scales;         /* [rows] */
    int32_t *rowsums;      /* [rows] */
} vq_quant_args;

/* One GEMM call: rows [0, rows) of the activations against output columns [col0, col1). */
typedef struct {
    const int8_t *q; int64_t ldq;
    const float *sx;       /* [rows] activation scales */
    const int32_t *qsum;   /* [rows][groups] sums of q per weight group (row sums when groups == 1) */
    int rows;
    const uint8_t *w;      /* packed panels */
    int kpad, npad;
    int group_steps;       /* k-steps per group (int8: kpad / 4, int4 per channel: kpad / 8) */
    int groups;
    const float *ws;       /* [groups][npad] */
    const int32_t *wz;     /* [groups][npad], unsigned domain */
    const float *bias;     /* [n] or NULL */
    int n, col0, col1;     /* col0 a multiple of VQ_NR, col1 <= n */
    float *out; int64_t ldo;
    int activation;        /* VQ_ACT_*: applied to every output after the bias */
} vq_gemm_args;

/*
 * The activation a GEMM may apply to its outputs (an MLP's first layer: its outputs go nowhere else), so that they
 * need no pass of their own. Every implementation computes it as dev.viditq.core.kernels.VectorMath does, the same
 * float operations in the same order (quant_common.h, activation_avx512.h), so the outputs equal the Java pass's bit
 * for bit. NativeIntKernels numbers them alike.
 */
#define VQ_ACT_NONE 0
#define VQ_ACT_GELU_TANH 1

typedef struct {
    const char *name;
    int (*quantize)(const vq_quant_args *a);   /* 0, or -1 when scratch memory is unavailable */
    void (*gemm_w8a8)(const vq_gemm_args *a);
    void (*gemm_w4a8)(const vq_gemm_args *a);
    void (*group_sums)(const int8_t *q, int64_t ldq, int rows, int k, int group, int groups, int32_t *out);
    int fuses_activation;  /* 1: the GEMMs apply vq_gemm_args.activation in their epilogue; 0: dispatch.c does after */
} vq_impl;

extern const vq_impl vq_impl_portable;
extern const vq_impl vq_impl_avx2;
extern const vq_impl vq_impl_avx512vnni;
extern const vq_impl vq_impl_amx;        /* kernels_amx.c: AMX-INT8 GEMMs, the rest from avx512-vnni */

/*
 * Float GEMM in BF16 x BF16 -> FP32 (kernels_bf16.c, kernels_amx.c).
 *
 * Weights W [n][k] are packed once into panels of VQ_NR columns, k padded to VQ_BF16_KALIGN with zeros; one panel
 * is a sequence of k-pair steps of VQ_STEP_BYTES bytes in which column c owns bytes [4c, 4c + 4): the bf16 of
 * W[c][2s] then of W[c][2s + 1]. This is the int8 layout with 2 bf16 in place of 4 bytes: a step is one row of an
 * AMX B tile (16 columns x 64 bytes) and one vdpbf16ps operand (16 lanes of pairs).
 * Activations are converted per row to bf16 a[rows][lda] (lda >= kpad elements, a multiple of 32), zero past k.
 * All float conversions round to nearest even.
 */
#define VQ_BF16_KALIGN 32                /* k of a packed weight: a multiple of one AMX tile depth */

typedef struct {
    const uint16_t *a; int64_t lda;      /* bf16 activations, lda in elements */
    int rows;
    const uint16_t *w;                   /* packed panels */
    int kpad;                            /* multiple of VQ_BF16_KALIGN */
    const float *bias;                   /* [n] or NULL */
    int n, col0, col1;                   /* col0: a multiple of 16 (AMX) or of VQ_NR (AVX512-BF16) */
    float *out; int64_t ldo;
} vq_bf16_gemm_args;

/* Attention of one head over a range of its queries, from the packed operands of viditq_attention_pack (one layout
 * for both units: kernels_amx.c on tiles, kernels_bf16.c with vdpbf16ps). */
typedef struct {
    const uint16_t *qb;                  /* queries, bf16 [lq rounded to 32][dq], zero padded */
    const uint16_t *kp;                  /* keys as the B tiles of Q.K^T */
    const uint16_t *vp;                  /* values as the B tiles of P.V */
    const float *key_bias;               /* [lk] added to every score, or NULL */
    const float *head_bias;              /* this head's [lq][ldb] added to the scores, or NULL */
    int64_t ldb;                         /* row stride of head_bias in floats */
    float scale;                         /* multiplies q.k before the bias */
    int lq, lk, d;                       /* d: head dimension */
    int q0, q1;                          /* query rows of this call, q0 a multiple of 32 (AMX) */
    float *out; int64_t ldo;             /* row i of this head's output at out + i * ldo, d floats */
} vq_attention_args;

/* A buffer of at least `bytes`, 64-byte aligned, kept for the calling thread in `slot` (one per use, so that two
 * uses in one call do not share it) and grown as needed; NULL when memory is short (thread_buffer.c). */
enum { VQ_SCRATCH_A_TAIL, VQ_SCRATCH_B, VQ_SCRATCH_ATTENTION, VQ_SCRATCH_SHORT_ATTENTION, VQ_SCRATCH_SLOTS };
void *vq_thread_buffer(int slot, size_t bytes);

/* Attention over few keys for heads [h0, h1) and queries [q0, q1), from the FP32 rows (kernels_bf16.c). Head h's
 * columns start at h * d in q, k, v and out; no biases. */
#define VQ_SHORT_KEYS 64
#define VQ_SHORT_D 128
typedef struct {
    const float *q; int64_t ldq;
    const float *k; int64_t ldk;
    const float *v; int64_t ldv;
    float *out; int64_t ldo;
    int lq, lk, d;                       /* 1 <= lk <= VQ_SHORT_KEYS, 1 <= d <= VQ_SHORT_D */
    float scale;
    int h0, h1, q0, q1;
} vq_short_attention_args;

int vq_attention_short_avx512(const vq_short_attention_args *a);   /* 0, or -1 without scratch memory */
void vq_bf16_convert_avx512(const float *x, int64_t ldx, int rows, int k, uint16_t *a, int64_t lda);
void vq_gelu_tanh_pass_avx512(float *x, int64_t n);
void vq_bf16_gemm_avx512(const vq_bf16_gemm_args *g);
void vq_bf16_gemm_amx(const vq_bf16_gemm_args *g);
void vq_attention_pack(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv,
                       int lq, int lk, int d, uint16_t *qb, uint16_t *kp, uint16_t *vp);
int vq_attention_amx(const vq_attention_args *t);   /* 0, or -1 without scratch memory */
void vq_attention_avx512(const vq_attention_args *t);
int64_t vq_bf16_dot_peak_avx512(int64_t iters);
int64_t vq_amx_int8_peak(int64_t iters);
int64_t vq_amx_bf16_peak(int64_t iters);

/* amx_support.c: whether this process may run AMX (CPU, OS, arch_prctl permission), asked once. */
int vq_amx_usable(void);
const char *vq_amx_reason(void);         /* "" when usable, else why not */
int vq_cpu_avx512_bf16(void);
int vq_cpu_avx512_vnni(void);
const char *vq_cpu_vendor(void);

/* The functions Java binds; everything else is hidden (build.sh compiles with -fvisibility=hidden). */
#define VQ_EXPORT __attribute__((visibility("default")))

/*
 * Per-ISA code: kernels_avx512.c and kernels_avx2.c open with "#pragma GCC target(...)", which gives every
 * function defined after it (their own and the inline helpers of quant_common.h) that target attribute, as
 * __attribute__((target(...))) on each would. The library is built for baseline x86-64 (never -march=native)
 * and dispatch.c picks an implementation at run time with __builtin_cpu_supports.
 */

#endif
