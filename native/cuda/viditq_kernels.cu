// viditq's own CUDA kernels: everything a DiT forward needs that cuBLASLt does not do. Activations are F32,
// row-major; each kernel is launched by dev.viditq.core.cuda.CudaKernels (grid and block sizes there) and checked
// there against the CPU kernels. Compiled to a fatbin (SASS for sm_80/sm_89/sm_90 plus PTX) by native/cuda/build-fatbin;
// the fatbin is committed as a resource and a test compares its recorded source hash with this file.
#include <cuda_bf16.h>
#include <stdint.h>

#define WARP 32

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ float block_sum(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < blockDim.x / WARP ? partial[lane] : 0.f;
        s = warp_sum(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

__device__ float block_max(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    v = warp_max(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < blockDim.x / WARP ? partial[lane] : -INFINITY;
        s = warp_max(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

// LayerNorm of one row per block; gamma/beta may be null. Two passes over the row (mean, then centred variance)
// as the CPU kernels do, so FP32 results agree to rounding. In place allowed.
extern "C" __global__ void layer_norm(const float* x, float* out, const float* gamma, const float* beta,
                                      int dim, float eps) {
    const float* row = x + (size_t)blockIdx.x * dim;
    float* o = out + (size_t)blockIdx.x * dim;
    float s = 0.f;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) s += row[c];
    float mean = block_sum(s) / dim;
    float v = 0.f;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) { float d = row[c] - mean; v += d * d; }
    float inv = rsqrtf(block_sum(v) / dim + eps);
    for (int c = threadIdx.x; c < dim; c += blockDim.x) {
        float y = (row[c] - mean) * inv;
        if (gamma) y *= gamma[c];
        if (beta) y += beta[c];
        o[c] = y;
    }
}

extern "C" __global__ void rms_norm(const float* x, float* out, const float* gamma, int dim, float eps) {
    const float* row = x + (size_t)blockIdx.x * dim;
    float* o = out + (size_t)blockIdx.x * dim;
    float s = 0.f;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) s += row[c] * row[c];
    float inv = rsqrtf(block_sum(s) / dim + eps);
    for (int c = threadIdx.x; c < dim; c += blockDim.x) o[c] = gamma ? row[c] * inv * gamma[c] : row[c] * inv;
}

// In place over rows [0, rows): x = x·mul + add (mul/add [dim], one sample's modulation).
extern "C" __global__ void affine_rows(float* x, long long n, int dim, const float* mul, const float* add) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        int c = (int)(i % dim);
        x[i] = x[i] * mul[c] + add[c];
    }
}

// In place: residual += gate ⊙ y over rows of width dim (gate [dim], one sample's).
extern "C" __global__ void gated_add_rows(float* residual, const float* y, long long n, int dim, const float* gate) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        residual[i] += gate[(int)(i % dim)] * y[i];
    }
}

// 0: GELU tanh, 1: GELU erf, 2: SiLU; in place.
extern "C" __global__ void activation(float* x, long long n, int kind) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float v = x[i];
        if (kind == 0) v = 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        else if (kind == 1) v = 0.5f * v * (1.f + erff(v * 0.7071067811865476f));
        else v = v / (1.f + expf(-v));
        x[i] = v;
    }
}

// out = a + b (op 0) or a·b (op 1); out may alias a or b.
extern "C" __global__ void binary(const float* a, const float* b, float* out, long long n, int op) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = op == 0 ? a[i] + b[i] : a[i] * b[i];
    }
}

// F32 rows (stride ld floats) → dense BF16 [rows, cols], round to nearest even (the GEMM input of bf16 mode).
extern "C" __global__ void to_bf16(const float* x, long long ld, __nv_bfloat16* out, int rows, int cols) {
    long long n = (long long)rows * cols;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / cols; int c = (int)(i % cols);
        out[i] = __float2bfloat16_rn(x[r * ld + c]);
    }
}

// Weights as stored → the device copy: BF16 or F16 [n] → F32 (kind 0: bf16, 1: f16).
extern "C" __global__ void half_to_f32(const uint16_t* x, float* out, long long n, int kind) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        uint16_t h = x[i];
        out[i] = kind == 0 ? __uint_as_float(((unsigned)h) << 16) : __half2float(__ushort_as_half(h));
    }
}

// Attention probabilities, one row of scores per block: p = softmax(s·scale + perKey + perHead), in place over
// F32 scores [heads·lq, lk]; with pb non-null also written as BF16 (the second GEMM's input in bf16 mode).
// perHead is [heads, lq, lk] laid out as the scores. A row whose every score is -inf gets zeros.
__device__ void softmax_row(float* s, __nv_bfloat16* pb, int lk, float scale, const float* perKey,
                            const float* perHead) {
    size_t row = blockIdx.x;
    float* r = s + row * lk;
    const float* ph = perHead ? perHead + row * lk : nullptr;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < lk; j += blockDim.x) {
        float v = r[j] * scale;
        if (perKey) v += perKey[j];
        if (ph) v += ph[j];
        r[j] = v;
        m = fmaxf(m, v);
    }
    m = block_max(m);
    float sum = 0.f;
    for (int j = threadIdx.x; j < lk; j += blockDim.x) {
        float e = m == -INFINITY ? 0.f : expf(r[j] - m);
        r[j] = e;
        sum += e;
    }
    sum = block_sum(sum);
    float inv = sum > 0.f ? 1.f / sum : 0.f;
    for (int j = threadIdx.x; j < lk; j += blockDim.x) {
        float p = r[j] * inv;
        r[j] = p;
        if (pb) pb[row * lk + j] = __float2bfloat16_rn(p);
    }
}

extern "C" __global__ void attention_softmax(float* s, __nv_bfloat16* pb, int lk, float scale,
                                             const float* perKey, const float* perHead) {
    softmax_row(s, pb, lk, scale, perKey, perHead);
}

// Plain row softmax in place over [rows, cols].
extern "C" __global__ void softmax_rows(float* x, int cols) {
    softmax_row(x, nullptr, cols, 1.f, nullptr, nullptr);
}

// Activation quantization, first half: v = x ⊙ diag (balancing ⊙ rotation signs; diag null: x), written F32 dense.
// The Hadamard blocks are then one GEMM (v [rows·k/b, b] · H_b), and quantize_rows finishes.
extern "C" __global__ void scale_columns(const float* x, const float* diag, float* out, long long n, int k) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = diag ? x[i] * diag[(int)(i % k)] : x[i];
    }
}

// Per-token symmetric int8 of y [rows, k], one row per block: scale = absmax/127, q = rint(y/scale) clamped to
// ±127 (half to even, as the CPU quantizer), bytes k..ldq of each row zero; scales[r] = scale·post (post: the 1/√b
// the rotation's values did not get) and rowSums[r] = Σ q.
extern "C" __global__ void quantize_rows(const float* y, int k, float post, int8_t* q, int ldq, float* scales,
                                         int* rowSums) {
    size_t r = blockIdx.x;
    const float* row = y + r * k;
    float amax = 0.f;
    for (int c = threadIdx.x; c < k; c += blockDim.x) amax = fmaxf(amax, fabsf(row[c]));
    amax = block_max(amax);
    float scale = amax / 127.f;
    float sum = 0.f;
    int8_t* qr = q + r * (size_t)ldq;
    for (int c = threadIdx.x; c < ldq; c += blockDim.x) {
        int v = 0;
        if (c < k && scale != 0.f) {
            // rint(y / scale) with a true division, as the CPU does: the reciprocal could round differently at .5
            v = (int)rintf(__fdiv_rn(row[c], scale));
            v = max(-127, min(127, v));
        }
        qr[c] = (int8_t)v;
        sum += v;
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0) { scales[r] = scale * post; rowSums[r] = (int)sum; }
}

// W8A8 epilogue: out[r, c] = (acc[r, c] − zero[c]·rowSum[r]) · sx[r] · sw[c] + bias[c] (acc int32 [rows, ldAcc]
// from the int8 GEMM, ldAcc ≥ n; zero the weight's signed zero point, null for symmetric weights).
extern "C" __global__ void w8a8_epilogue(const int* acc, int ldAcc, int rows, int n, const float* sx, const int* rowSums,
                                         const float* sw, const int* zero, const float* bias, float* out) {
    long long total = (long long)rows * n;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        int r = (int)(i / n), c = (int)(i % n);
        long long a = acc[(long long)r * ldAcc + c];
        if (zero) a -= (long long)zero[c] * rowSums[r];
        float v = (float)a * sw[c] * sx[r];
        if (bias) v += bias[c];
        out[i] = v;
    }
}

// x[r, :] += table[index[r], :] over rows of width dim (positional embeddings broadcast over samples or frames).
extern "C" __global__ void add_indexed_rows(float* x, const float* table, const int* index, long long n, int dim) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        long long r = i / dim; int c = (int)(i % dim);
        x[i] += table[(long long)index[r] * dim + c];
    }
}
