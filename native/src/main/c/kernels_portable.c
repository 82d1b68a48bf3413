/* The portable implementation: plain C for any x86-64 (or other) CPU, and the reference for the fast ones. */
#include "quant_common.h"

static int quantize_portable(const vq_quant_args *a) {
    return vq_quantize_portable_body(a);
}

static void gemm_w8a8_portable(const vq_gemm_args *a) {
    vq_gemm_w8a8_portable_body(a);
}

static void gemm_w4a8_portable(const vq_gemm_args *a) {
    vq_gemm_w4a8_portable_body(a);
}

static void group_sums_portable(const int8_t *q, int64_t ldq, int rows, int k, int group, int groups, int32_t *out) {
    vq_group_sums_body(q, ldq, rows, k, group, groups, out);
}

const vq_impl vq_impl_portable = {"portable", quantize_portable, gemm_w8a8_portable, gemm_w4a8_portable,
                                  group_sums_portable, 0};
