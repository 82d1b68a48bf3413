/*
 * The exported entry points, called from Java through FFM. Each call names its implementation by a handle
 * from viditq_impl(), so Java can hold the best ISA for production and lower ones for tests side by side.
 * The only state is what AMX needs: the permission asked once per process (amx_support.c) and per-thread
 * scratch buffers (kernels_amx.c).
 */
#include <string.h>
#include "viditq.h"
#include "quant_common.h"   /* vq_activate_outputs */

static int cpu_supports(const vq_impl *impl) {
#if defined(__x86_64__)
    if (impl == &vq_impl_amx) return vq_amx_usable();
    if (impl == &vq_impl_avx512vnni) return vq_cpu_avx512_vnni();
    if (impl == &vq_impl_avx2) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
    }
#endif
    return impl == &vq_impl_portable;
}

/* Best first. */
static const vq_impl *const all_impls[] = {
#if defined(__x86_64__)
    &vq_impl_amx, &vq_impl_avx512vnni, &vq_impl_avx2,
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
    return "amx,avx512-vnni,avx2,portable";
#else
    return "portable";
#endif
}

/* 0; -1 when the scratch buffer (k + 3 hblock floats) cannot be allocated; -2 when hm > 1 is no multiple of 4 (the
 * mix works by quads of H_m's rows; every Paley order is a multiple of 4). */
VQ_EXPORT int viditq_quantize(const vq_impl *impl, const float *x, int64_t ldx, int32_t rows, int32_t k, const float *diag,
                     int32_t hblock, int32_t hm, const float *hmat, float post, int8_t *q, int64_t ldq,
                     float *scales, int32_t *rowsums) {
    vq_quant_args a = {x, ldx, rows, k, diag, hblock, hm, hmat, post, q, ldq, scales, rowsums};
    if (hblock > 0 && hm > 1 && hm % 4 != 0) return -2;
    return rows > 0 ? impl->quantize(&a) : 0;
}

/* out[r][g] = sum of q[r][i] over group g, i in [g * group, min((g + 1) * group, k)). */
VQ_EXPORT void viditq_group_sums(const vq_impl *impl, const int8_t *q, int64_t ldq, int32_t rows, int32_t k, int32_t group,
                       int32_t groups, int32_t *out) {
    impl->group_sums(q, ldq, rows, k, group, groups, out);
}

VQ_EXPORT void viditq_gemm_w8a8(const vq_impl *impl, const int8_t *q, int64_t ldq, const float *sx, const int32_t *rowsums,
                      int32_t rows, const uint8_t *w, int32_t kpad, int32_t npad, const float *ws, const int32_t *wz,
                      const float *bias, int32_t n, int32_t col0, int32_t col1, float *out, int64_t ldo,
                      int32_t activation) {
    vq_gemm_args a = {q, ldq, sx, rowsums, rows, w, kpad, npad, kpad / 4, 1, ws, wz, bias, n, col0,
                      col1 < n ? col1 : n, out, ldo, activation};
    if (rows <= 0 || a.col1 <= col0) return;
    impl->gemm_w8a8(&a);
    if (!impl->fuses_activation) vq_activate_outputs(&a);
}

/* group: k values per group (a multiple of 8) when groups > 1; ignored for groups == 1 (per channel). */
VQ_EXPORT void viditq_gemm_w4a8(const vq_impl *impl, const int8_t *q, int64_t ldq, const float *sx, const int32_t *qsum,
                      int32_t rows, const uint8_t *w, int32_t kpad, int32_t npad, int32_t group, int32_t groups,
                      const float *ws, const int32_t *wz, const float *bias, int32_t n, int32_t col0, int32_t col1,
                      float *out, int64_t ldo, int32_t activation) {
    int group_steps = groups == 1 ? kpad / 8 : group / 8;
    vq_gemm_args a = {q, ldq, sx, qsum, rows, w, kpad, npad, group_steps, groups, ws, wz, bias, n, col0,
                      col1 < n ? col1 : n, out, ldo, activation};
    if (rows <= 0 || a.col1 <= col0) return;
    impl->gemm_w4a8(&a);
    if (!impl->fuses_activation) vq_activate_outputs(&a);
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

/* ---------------------------------------------------------------- matrix engines and the BF16 float path */

/* Units for viditq_bf16_* calls and the bits of viditq_matrix_units. */
enum { UNIT_AVX512_BF16 = 1, UNIT_AMX = 2 };

/* The units this process can run: AVX512-BF16 (bit 0), AMX-INT8 and AMX-BF16 (bit 1). */
VQ_EXPORT int32_t viditq_matrix_units(void) {
    int units = 0;
#if defined(__x86_64__)
    if (vq_cpu_avx512_bf16()) units |= UNIT_AVX512_BF16;
    if (vq_amx_usable()) units |= UNIT_AMX;
#endif
    return units;
}

/* Why AMX cannot run here ("" when it can): the CPU lacks it, the OS does not enable it, or Linux refused it. */
VQ_EXPORT const char *viditq_amx_status(void) {
    return vq_amx_reason();
}

/* cpuid's vendor string ("GenuineIntel", "AuthenticAMD"; "" off x86-64). */
VQ_EXPORT const char *viditq_cpu_vendor(void) {
    return vq_cpu_vendor();
}

static int unit_runs(int unit) {
    return unit == UNIT_AVX512_BF16 || unit == UNIT_AMX ? (viditq_matrix_units() & unit) != 0 : 0;
}

/* a[r][0, lda) = bf16 of x[r][0, k) and zeros; -1 when no unit with BF16 conversions runs here. */
VQ_EXPORT int32_t viditq_bf16_convert(const float *x, int64_t ldx, int32_t rows, int32_t k, uint16_t *a, int64_t lda) {
#if defined(__x86_64__)
    if (!unit_runs(UNIT_AVX512_BF16)) return -1;
    vq_bf16_convert_avx512(x, ldx, rows, k, a, lda);
    return 0;
#else
    return -1;
#endif
}

/*
 * x[0, n) = GELU-tanh(x) with the AVX-512 code of the GEMM epilogues (the Java kernels' bits; a native pass needs no
 * JIT warm-up, which a pass run once per step, as a caption projection's, waits for); -1 without AVX512-BF16 here.
 */
VQ_EXPORT int32_t viditq_gelu_tanh(float *x, int64_t n) {
#if defined(__x86_64__)
    if (!unit_runs(UNIT_AVX512_BF16)) return -1;
    vq_gelu_tanh_pass_avx512(x, n);
    return 0;
#else
    return -1;
#endif
}

/* out[rows][col0, col1) = a . W^T (+ bias) with packed W; col0 a multiple of 16. -1 when the unit cannot run. */
VQ_EXPORT int32_t viditq_bf16_gemm(int32_t unit, const uint16_t *a, int64_t lda, int32_t rows, const uint16_t *w,
                                   int32_t kpad, const float *bias, int32_t n, int32_t col0, int32_t col1, float *out,
                                   int64_t ldo) {
#if defined(__x86_64__)
    if (!unit_runs(unit)) return -1;
    vq_bf16_gemm_args g = {a, lda, rows, w, kpad, bias, n, col0, col1 < n ? col1 : n, out, ldo};
    if (rows <= 0 || g.col1 <= col0) return 0;
    if (unit == UNIT_AMX) vq_bf16_gemm_amx(&g);
    else vq_bf16_gemm_avx512(&g);
    return 0;
#else
    return -1;
#endif
}

/* Elements of the packed operands of one head: qb, kp, vp (see kernels_amx.c). */
VQ_EXPORT void viditq_attention_sizes(int32_t lq, int32_t lk, int32_t d, int64_t *sizes) {
    int lq32 = (lq + 31) / 32 * 32, lk32 = (lk + 31) / 32 * 32, dq = (d + 31) / 32 * 32, groups = (d + 15) / 16;
    sizes[0] = (int64_t)lq32 * dq;
    sizes[1] = (int64_t)lk32 * dq;
    sizes[2] = (int64_t)lk32 * groups * 16;
}

/* Largest head dimension of the BF16 attention (both units). */
#define ATTENTION_MAX_D 512

/* Packs one head's q, k, v (pointers at the head's first column) for either unit; -1 when no unit with BF16 runs
 * here (every CPU with AMX-BF16 has AVX512-BF16 too) or d is out of range. */
VQ_EXPORT int32_t viditq_attention_pack(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v,
                                        int64_t ldv, int32_t lq, int32_t lk, int32_t d, uint16_t *qb, uint16_t *kp,
                                        uint16_t *vp) {
#if defined(__x86_64__)
    if (!unit_runs(UNIT_AVX512_BF16) || d > ATTENTION_MAX_D || d < 1) return -1;
    vq_attention_pack(q, ldq, k, ldk, v, ldv, lq, lk, d, qb, kp, vp);
    return 0;
#else
    return -1;
#endif
}

/*
 * Queries [q0, q1) of one packed head on a unit (AMX: q0 a multiple of 32). key_bias [lk] and head_bias (this
 * head's [lq][ldb]) are added to the scaled scores; either may be NULL. -1 when the unit cannot run, d is out of
 * range, or AMX has no scratch memory.
 */
VQ_EXPORT int32_t viditq_attention(int32_t unit, const uint16_t *qb, const uint16_t *kp, const uint16_t *vp,
                                   const float *key_bias, const float *head_bias, int64_t ldb, float scale, int32_t lq,
                                   int32_t lk, int32_t d, int32_t q0, int32_t q1, float *out, int64_t ldo) {
#if defined(__x86_64__)
    if (!unit_runs(unit) || d > ATTENTION_MAX_D || d < 1 || q0 < 0 || (unit == UNIT_AMX && q0 % 32 != 0)) return -1;
    vq_attention_args t = {qb, kp, vp, key_bias, head_bias, ldb, scale, lq, lk, d, q0, q1 < lq ? q1 : lq, out, ldo};
    if (q0 >= t.q1 || lk <= 0) return 0;
    if (unit == UNIT_AMX) return vq_attention_amx(&t);
    vq_attention_avx512(&t);
    return 0;
#else
    return -1;
#endif
}

/*
 * Attention over at most VQ_SHORT_KEYS keys (d <= VQ_SHORT_D, no biases) for heads [h0, h1) and queries [q0, q1),
 * straight from the FP32 rows with the BF16 kernels' rounding, on AVX-512 (every CPU with AMX-BF16 has it). -1 when
 * AVX512-BF16 does not run here, a size is out of range or there is no scratch memory.
 */
VQ_EXPORT int32_t viditq_attention_short(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v,
                                         int64_t ldv, float *out, int64_t ldo, int32_t lq, int32_t lk, int32_t d,
                                         float scale, int32_t h0, int32_t h1, int32_t q0, int32_t q1) {
#if defined(__x86_64__)
    if (!unit_runs(UNIT_AVX512_BF16) || lk < 1 || lk > VQ_SHORT_KEYS || d < 1 || d > VQ_SHORT_D || q0 < 0 || h0 < 0)
        return -1;
    vq_short_attention_args a = {q, ldq, k, ldk, v, ldv, out, ldo, lq, lk, d, scale, h0, h1, q0, q1 < lq ? q1 : lq};
    return a.q0 < a.q1 ? vq_attention_short_avx512(&a) : 0;
#else
    return -1;
#endif
}

/* Register-only loops on the calling thread; -1 when the unit does not run here. Operations per iteration:
 * vdpbf16ps 16 x 64 flops; AMX-INT8 4 x 32768 integer ops; AMX-BF16 4 x 16384 flops. */
VQ_EXPORT int64_t viditq_bf16_dot_peak(int64_t iters) {
#if defined(__x86_64__)
    if (unit_runs(UNIT_AVX512_BF16)) return vq_bf16_dot_peak_avx512(iters);
#endif
    return -1;
}

VQ_EXPORT int64_t viditq_amx_int8_peak(int64_t iters) {
#if defined(__x86_64__)
    if (unit_runs(UNIT_AMX)) return vq_amx_int8_peak(iters);
#endif
    return -1;
}

VQ_EXPORT int64_t viditq_amx_bf16_peak(int64_t iters) {
#if defined(__x86_64__)
    if (unit_runs(UNIT_AMX)) return vq_amx_bf16_peak(iters);
#endif
    return -1;
}
