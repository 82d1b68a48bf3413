/*
 * The exported entry points, called from Java through FFM. Each call names its implementation by a handle
 * from viditq_impl(), so Java can hold the best ISA for production and lower ones for tests side by side;
 * the library keeps no mutable state.
 */
#include <string.h>
#include "viditq.h"

static int cpu_supports(const vq_impl *impl) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (impl == &vq_impl_avx512vnni) {
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma")
            && __builtin_cpu_supports("bmi2");
    }
    if (impl == &vq_impl_avx2) {
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
    }
#endif
    return impl == &vq_impl_portable;
}

/* Best first. */
static const vq_impl *const all_impls[] = {
#if defined(__x86_64__)
    &vq_impl_avx512vnni, &vq_impl_avx2,
#endif
    &vq_impl_portable,
};
#define IMPL_COUNT (sizeof all_impls / sizeof all_impls[0])

VQ_EXPORT int viditq_abi_version(void) { return VQ_ABI_VERSION; }

/* "auto" (the best this CPU runs) or an implementation name; NULL when unknown or not runnable here. */
VQ_EXPORT const vq_impl *viditq_impl(const char *name) {
    for (size_t i = 0; i < IMPL_COUNT; i++) {
        if ((strcmp(name, "auto") == 0 || strcmp(all_impls[i]->name, name) == 0) && cpu_supports(all_impls[i])) {
            return all_impls[i];
        }
    }
    return NULL;
}

VQ_EXPORT const char *viditq_impl_name(const vq_impl *impl) { return impl->name; }

/* Names of all implementations in this build, best first, comma-separated (runnable or not). */
VQ_EXPORT const char *viditq_impl_names(void) {
#if defined(__x86_64__)
    return "avx512-vnni,avx2,portable";
#else
    return "portable";
#endif
}

/* 0, or -1 when the scratch buffer (k + hblock floats) cannot be allocated. */
VQ_EXPORT int viditq_quantize(const vq_impl *impl, const float *x, int64_t ldx, int32_t rows, int32_t k, const float *diag,
                     int32_t hblock, int32_t hm, const float *hmat, float post, int8_t *q, int64_t ldq,
                     float *scales, int32_t *rowsums) {
    vq_quant_args a = {x, ldx, rows, k, diag, hblock, hm, hmat, post, q, ldq, scales, rowsums};
    return rows > 0 ? impl->quantize(&a) : 0;
}

/* out[r][g] = sum of q[r][i] over group g, i in [g * group, min((g + 1) * group, k)). */
VQ_EXPORT void viditq_group_sums(const vq_impl *impl, const int8_t *q, int64_t ldq, int32_t rows, int32_t k, int32_t group,
                       int32_t groups, int32_t *out) {
    impl->group_sums(q, ldq, rows, k, group, groups, out);
}

VQ_EXPORT void viditq_gemm_w8a8(const vq_impl *impl, const int8_t *q, int64_t ldq, const float *sx, const int32_t *rowsums,
                      int32_t rows, const uint8_t *w, int32_t kpad, int32_t npad, const float *ws, const int32_t *wz,
                      const float *bias, int32_t n, int32_t col0, int32_t col1, float *out, int64_t ldo) {
    vq_gemm_args a = {q, ldq, sx, rowsums, rows, w, kpad, npad, kpad / 4, 1, ws, wz, bias, n, col0,
                      col1 < n ? col1 : n, out, ldo};
    if (rows > 0 && a.col1 > col0) impl->gemm_w8a8(&a);
}

/* group: k values per group (a multiple of 8) when groups > 1; ignored for groups == 1 (per channel). */
VQ_EXPORT void viditq_gemm_w4a8(const vq_impl *impl, const int8_t *q, int64_t ldq, const float *sx, const int32_t *qsum,
                      int32_t rows, const uint8_t *w, int32_t kpad, int32_t npad, int32_t group, int32_t groups,
                      const float *ws, const int32_t *wz, const float *bias, int32_t n, int32_t col0, int32_t col1,
                      float *out, int64_t ldo) {
    int group_steps = groups == 1 ? kpad / 8 : group / 8;
    vq_gemm_args a = {q, ldq, sx, qsum, rows, w, kpad, npad, group_steps, groups, ws, wz, bias, n, col0,
                      col1 < n ? col1 : n, out, ldo};
    if (rows > 0 && a.col1 > col0) impl->gemm_w4a8(&a);
}

/* Register-only vpdpbusd loop, 16 independent chains: the int8 ceiling of one thread.
 * Runs iters * 16 instructions of 64 multiply-adds (128 ops); returns a checksum, or -1 without VNNI. */
int64_t vq_vnni_peak_avx512(int64_t iters);

VQ_EXPORT int64_t viditq_vnni_peak(int64_t iters) {
#if defined(__x86_64__)
    if (cpu_supports(&vq_impl_avx512vnni)) return vq_vnni_peak_avx512(iters);
#endif
    return -1;
}
