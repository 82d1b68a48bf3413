package dev.viditq.core.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuBLASLt matrix multiplies, bound with FFM. Every product is stated in cuBLASLt's column-major terms by the
 * caller: D (m×n) = op(A) · op(B) (+ bias per row of D), batched with strides. A plan (descriptors and the algorithm
 * the heuristic picks) is made once per shape and reused.
 */
public final class CublasLt {
    // cudaDataType_t
    public static final int R_32F = 0, R_16F = 2, R_8I = 3, R_32I = 10, R_16BF = 14, R_8F_E4M3 = 28;
    // cublasComputeType_t
    public static final int COMPUTE_32F = 68, COMPUTE_32I = 72;
    static final int OP_N = 0, OP_T = 1;
    private static final int DESC_SCALE_TYPE = 1, DESC_TRANSA = 3, DESC_TRANSB = 4, DESC_EPILOGUE = 7, DESC_BIAS_POINTER = 8;
    private static final int EPILOGUE_DEFAULT = 1, EPILOGUE_BIAS = 4;
    private static final int LAYOUT_BATCH_COUNT = 5, LAYOUT_STRIDED_BATCH_OFFSET = 6;
    private static final int PREF_MAX_WORKSPACE = 1;
    private static final long WORKSPACE = 32L << 20;
    private static final int HEURISTIC_RESULT_BYTES = 96; // cublasLtMatmulHeuristicResult_t: algo[64], size_t, status, float, int[4]

    private final CudaDevice device;
    private final String library;
    private final MethodHandle matmul, descCreate, descSet, layoutCreate, layoutSet, prefCreate, prefSet, heuristic;
    private final MemorySegment handle;
    private final long workspace;
    private final Map<Shape, Plan> plans = new ConcurrentHashMap<>();

    /** One product's types and geometry; equal shapes share a plan. */
    public record Shape(int typeAB, int typeD, int compute, boolean transA, boolean transB, long m, long n, long k,
                        long lda, long ldb, long ldd, int batch, long strideA, long strideB, long strideD, boolean bias) {}

    private record Plan(MemorySegment desc, MemorySegment a, MemorySegment b, MemorySegment d, MemorySegment algo) {}

    private CublasLt(CudaDevice device, CudaLibraries.Loaded lib) {
        this.device = device;
        this.library = lib.name();
        matmul = lib.function("cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS,
                JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        descCreate = lib.function("cublasLtMatmulDescCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        descSet = lib.function("cublasLtMatmulDescSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        layoutCreate = lib.function("cublasLtMatrixLayoutCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        layoutSet = lib.function("cublasLtMatrixLayoutSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        prefCreate = lib.function("cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        prefSet = lib.function("cublasLtMatmulPreferenceSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        heuristic = lib.function("cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(CudaDevice.call(lib.function("cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS)), p), "cublasLtCreate");
            handle = p.get(ADDRESS, 0);
        }
        workspace = device.allocate(WORKSPACE);
    }

    /** cuBLASLt on {@code device}, or empty with the reason in {@code reasons}. */
    public static Optional<CublasLt> open(CudaDevice device, List<String> reasons) {
        List<String> tried = new ArrayList<>();
        Optional<CudaLibraries.Loaded> lib = CudaLibraries.load(CudaLibraries.CUBLASLT, tried);
        if (lib.isEmpty()) {
            reasons.add("cuBLASLt not found (" + String.join(", ", tried) + ")");
            return Optional.empty();
        }
        try {
            return Optional.of(new CublasLt(device, lib.get()));
        } catch (CudaException e) {
            reasons.add(e.getMessage());
            return Optional.empty();
        }
    }

    public String library() {
        return library;
    }

    /**
     * D = alpha · op(A) · op(B) (+ bias[row of D]) on the device stream; float alpha (0 beta) except for int32
     * compute, where alpha is 1. Addresses are device or managed memory.
     */
    public synchronized void matmul(Shape s, long a, long b, long d, long bias) {
        Plan p = plans.computeIfAbsent(s, this::plan);
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alpha, beta;
            if (s.compute() == COMPUTE_32I) {
                alpha = arena.allocateFrom(JAVA_INT, 1);
                beta = arena.allocateFrom(JAVA_INT, 0);
            } else {
                alpha = arena.allocateFrom(JAVA_FLOAT, 1f);
                beta = arena.allocateFrom(JAVA_FLOAT, 0f);
            }
            if (s.bias()) {
                MemorySegment ptr = arena.allocateFrom(JAVA_LONG, bias);
                check(CudaDevice.call(descSet, p.desc(), DESC_BIAS_POINTER, ptr, 8L), "bias pointer");
            }
            int status;
            try {
                status = (int) matmul.invokeExact(handle, p.desc(), alpha, a, p.a(), b, p.b(), beta, d, p.d(), d, p.d(), p.algo(),
                        workspace, WORKSPACE, device.stream());
            } catch (Throwable t) {
                throw new CudaException("cublasLtMatmul: " + t);
            }
            check(status, "cublasLtMatmul " + s);
        }
    }

    private Plan plan(Shape s) {
        device.makeCurrent();
        Arena global = Arena.global();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int scaleType = s.compute() == COMPUTE_32I ? R_32I : R_32F;
            check(CudaDevice.call(descCreate, p, s.compute(), scaleType), "cublasLtMatmulDescCreate");
            MemorySegment desc = p.get(ADDRESS, 0);
            setDesc(desc, DESC_TRANSA, s.transA() ? OP_T : OP_N, a);
            setDesc(desc, DESC_TRANSB, s.transB() ? OP_T : OP_N, a);
            setDesc(desc, DESC_EPILOGUE, s.bias() ? EPILOGUE_BIAS : EPILOGUE_DEFAULT, a);
            // stored (before op) shapes: A is m×k (or k×m transposed), B is k×n (or n×k)
            MemorySegment la = layout(s.typeAB(), s.transA() ? s.k() : s.m(), s.transA() ? s.m() : s.k(), s.lda(), s.batch(), s.strideA(), a);
            MemorySegment lb = layout(s.typeAB(), s.transB() ? s.n() : s.k(), s.transB() ? s.k() : s.n(), s.ldb(), s.batch(), s.strideB(), a);
            MemorySegment ld = layout(s.typeD(), s.m(), s.n(), s.ldd(), s.batch(), s.strideD(), a);
            check(CudaDevice.call(prefCreate, p), "cublasLtMatmulPreferenceCreate");
            MemorySegment pref = p.get(ADDRESS, 0);
            check(CudaDevice.call(prefSet, pref, PREF_MAX_WORKSPACE, a.allocateFrom(JAVA_LONG, WORKSPACE), 8L), "workspace preference");
            MemorySegment result = global.allocate(HEURISTIC_RESULT_BYTES, 16);
            MemorySegment count = a.allocate(JAVA_INT);
            check(CudaDevice.call(heuristic, handle, desc, la, lb, ld, ld, pref, 1, result, count), "cublasLtMatmulAlgoGetHeuristic " + s);
            if (count.get(JAVA_INT, 0) < 1) throw new CudaException("cuBLASLt has no algorithm for " + s);
            return new Plan(desc, la, lb, ld, result.asSlice(0, 64));
        }
    }

    private void setDesc(MemorySegment desc, int attr, int value, Arena a) {
        check(CudaDevice.call(descSet, desc, attr, a.allocateFrom(JAVA_INT, value), 4L), "cublasLtMatmulDescSetAttribute " + attr);
    }

    private MemorySegment layout(int type, long rows, long cols, long ld, int batch, long stride, Arena a) {
        MemorySegment p = a.allocate(ADDRESS);
        check(CudaDevice.call(layoutCreate, p, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
        MemorySegment l = p.get(ADDRESS, 0);
        if (batch > 1) {
            check(CudaDevice.call(layoutSet, l, LAYOUT_BATCH_COUNT, a.allocateFrom(JAVA_INT, batch), 4L), "batch count");
            check(CudaDevice.call(layoutSet, l, LAYOUT_STRIDED_BATCH_OFFSET, a.allocateFrom(JAVA_LONG, stride), 8L), "batch stride");
        }
        return l;
    }

    private static void check(int status, String what) {
        if (status != 0) throw new CudaException(what + " failed: cuBLAS status " + status);
    }
}
