package dev.viditq.core.kernels.quant;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.parallel.Parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The C kernels of libviditq (native/src/main/c) through FFM downcalls: AMX, AVX-512 VNNI, AVX2 or portable C,
 * chosen by CPU at load ({@link #load()}) or by name ({@link #load(String)}, for tests and benchmarks).
 * Multi-threading happens here: each call is split over {@link Parallel} threads, each calling the C kernel on
 * its slice (column panels, or row blocks when there are few columns; AMX: blocks of 32 × 32, see
 * {@link GridSplit}). Buffers on the Java heap are copied to native memory around the call (no
 * {@code Linker.Option.critical}: it blocks safepoints).
 */
public final class NativeIntKernels implements IntKernels {
    /** The ISA whose kernels compute 32 × 32 blocks on AMX tiles. */
    public static final String AMX = "amx";
    /** vq_gemm_args.activation: VQ_ACT_NONE and VQ_ACT_GELU_TANH of native/src/main/c/viditq.h. */
    private static final int ACT_NONE = 0, ACT_GELU_TANH = 1;
    /** -Dviditq.int.fusedActivation=false leaves the activation to the Java pass (to measure what fusing saves). */
    private static final boolean FUSES_ACTIVATION = !"false".equals(System.getProperty("viditq.int.fusedActivation"));

    private final NativeLibrary lib;
    private final MemorySegment impl;
    private final String isa;
    private final boolean usesBlocks;

    private NativeIntKernels(NativeLibrary lib, MemorySegment impl, String isa) {
        this.lib = lib;
        this.impl = impl;
        this.isa = isa;
        this.usesBlocks = AMX.equals(isa);
    }

    /** The best implementation this CPU runs; throws {@link IllegalStateException} with the reason if none. */
    public static NativeIntKernels load() {
        return load("auto");
    }

    /**
     * A named implementation ("amx", "avx512-vnni", "avx2", "portable") or "auto". "auto" on a CPU with AMX that
     * this process may not use says why, once (see {@link NativeMatrix#amxUnavailableReason()}).
     */
    public static NativeIntKernels load(String isa) {
        NativeLibrary lib;
        try {
            lib = NativeLibrary.get();
        } catch (NativeLibrary.Unavailable e) {
            throw new IllegalStateException("native integer kernels unavailable: " + e.getMessage(), e);
        }
        NativeIntKernels kernels = load(lib, isa);
        if (isa.equals("auto") && !kernels.usesBlocks) NativeMatrix.of(lib).reportAmxFallback(kernels.isa);
        return kernels;
    }

    /** A named implementation of a given build of the library (tests: the AMX-emulated one). */
    static NativeIntKernels load(NativeLibrary lib, String isa) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment impl = (MemorySegment) lib.impl.invokeExact(arena.allocateFrom(isa));
            if (impl.equals(MemorySegment.NULL)) {
                throw new IllegalArgumentException("native ISA '" + isa + "' is unknown or not supported by this CPU;"
                        + " runnable here: " + supportedIsas());
            }
            MemorySegment name = (MemorySegment) lib.implName.invokeExact(impl);
            return new NativeIntKernels(lib, impl, name.reinterpret(64).getString(0));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling libviditq failed", t);
        }
    }

    /** ISAs of the library this CPU runs, best first; empty when the library is unavailable. */
    public static List<String> supportedIsas() {
        List<String> runnable = new ArrayList<>();
        try {
            NativeLibrary lib = NativeLibrary.get();
            String all = ((MemorySegment) lib.implNames.invokeExact()).reinterpret(256).getString(0);
            try (Arena arena = Arena.ofConfined()) {
                for (String name : all.split(",")) {
                    MemorySegment impl = (MemorySegment) lib.impl.invokeExact(arena.allocateFrom(name));
                    if (!impl.equals(MemorySegment.NULL)) runnable.add(name);
                }
            }
        } catch (NativeLibrary.Unavailable e) {
            return List.of();
        } catch (Throwable t) {
            throw new IllegalStateException("calling libviditq failed", t);
        }
        return runnable;
    }

    /** The instruction set of this instance, e.g. "avx512-vnni". */
    public String isa() {
        return isa;
    }

    @Override
    public String name() {
        return "native " + isa;
    }

    /**
     * Runs the register-only vpdpbusd loop ({@code iters} × 16 instructions × 128 integer ops) on the calling
     * thread; the int8 ceiling for benchmarks. Returns false when the CPU has no AVX-512 VNNI.
     */
    public static boolean vnniPeak(long iters) {
        try {
            return (long) NativeLibrary.get().vnniPeak.invokeExact(iters) != -1;
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling libviditq failed", t);
        }
    }

    /** True when {@link #vnniPeak} can run here: the native library loads and the CPU has AVX-512 VNNI. */
    public static boolean hasVnni() {
        try {
            return vnniPeak(1);
        } catch (IllegalStateException | NativeLibrary.Unavailable e) {
            return false;
        }
    }

    /** Integer operations (2 per multiply-add) of one {@link #vnniPeak(long)} iteration. */
    public static final long VNNI_PEAK_OPS_PER_ITER = 16L * 64 * 2;

    // ------------------------------------------------------------------ kernels

    @Override
    public void quantize(MemorySegment x, int rows, int k, ActivationTransform t, QuantizedActivations out) {
        IntKernelChecks.quantize(x, rows, k, t, out);
        out.setRows(rows);
        if (rows == 0) return;
        MemorySegment xs = offHeap(x, (long) rows * k * Float.BYTES);
        MemorySegment diag = t == null ? MemorySegment.NULL : t.diagSegment();
        MemorySegment hmat = t == null ? MemorySegment.NULL : t.hmatSegment();
        int block = t == null ? 0 : t.hadamardBlock(), hm = t == null ? 1 : t.hadamardM();
        float post = t == null ? 1f : t.post();
        int tasks = WorkSplit.quantizeTasks(rows, k);
        Parallel.forEach(tasks, i -> {
            int r0 = (int) ((long) rows * i / tasks), r1 = (int) ((long) rows * (i + 1) / tasks);
            try {
                int status = (int) lib.quantize.invokeExact(impl, xs.asSlice((long) r0 * k * Float.BYTES), (long) k,
                        r1 - r0, k, diag, block, hm, hmat, post, out.qSegment().asSlice((long) r0 * out.ldq()),
                        (long) out.ldq(), out.scaleSegment().asSlice(4L * r0), out.rowSumSegment().asSlice(4L * r0));
                if (status == -2) throw new IllegalArgumentException("native quantizer: Hadamard factor H_" + hm + " is no multiple of 4");
                if (status != 0) throw new OutOfMemoryError("native quantizer: no scratch memory for k=" + k);
            } catch (Throwable e) {
                throw rethrow(e);
            }
        });
    }

    @Override
    public void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, MemorySegment out) {
        gemmW8A8(x, w, bias, ACT_NONE, out);
    }

    @Override
    public void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, MemorySegment out) {
        gemmW4A8(x, w, bias, ACT_NONE, out);
    }

    /**
     * GELU-tanh in the native epilogue (or, on the portable and AVX2 code, right after each task's outputs, while
     * they are in cache): the same float operations as the Java kernels' pass, so the same bits. Exact GELU goes
     * through the default pass.
     */
    @Override
    public void gemm(QuantizedActivations x, PackedWeight w, MemorySegment bias, Activation activation, MemorySegment out) {
        if (activation != null && (activation != Activation.GELU_TANH || !FUSES_ACTIVATION)) {
            IntKernels.super.gemm(x, w, bias, activation, out);
            return;
        }
        int act = activation == null ? ACT_NONE : ACT_GELU_TANH;
        switch (w) {
            case PackedInt8Weight w8 -> gemmW8A8(x, w8, bias, act, out);
            case PackedInt4Weight w4 -> gemmW4A8(x, w4, bias, act, out);
        }
    }

    private void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, int activation, MemorySegment out) {
        IntKernelChecks.gemm(x, w, bias, out);
        gemm(x, x.rowSumSegment(), 1, 0, w.packedSegment(), w.kpad(), w.npad(), w.n(), w.scaleSegment(),
                w.zeroSegment(), bias, out, false, activation);
    }

    private void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, int activation, MemorySegment out) {
        IntKernelChecks.gemm(x, w, bias, out);
        MemorySegment qsum = x.rowSumSegment();
        if (w.groups() > 1) {
            qsum = x.groupSumScratch(w.groups());
            try {
                lib.groupSums.invokeExact(impl, x.qSegment(), (long) x.ldq(), x.rows(), x.k(), w.groupSize(),
                        w.groups(), qsum);
            } catch (Throwable e) {
                throw rethrow(e);
            }
        }
        gemm(x, qsum, w.groups(), w.groupSize(), w.packedSegment(), w.kpad(), w.npad(), w.n(), w.scaleSegment(),
                w.zeroSegment(), bias, out, true, activation);
    }

    private void gemm(QuantizedActivations x, MemorySegment qsum, int groups, int groupSize, MemorySegment packed,
                      int kpad, int npad, int n, MemorySegment ws, MemorySegment wz, MemorySegment bias,
                      MemorySegment out, boolean int4, int activation) {
        int rows = x.rows();
        if (rows == 0) return;
        long outBytes = (long) rows * n * Float.BYTES;
        MemorySegment b = bias == null ? MemorySegment.NULL : offHeap(bias, (long) n * Float.BYTES);
        MemorySegment o = out.isNative() ? out : Arena.ofAuto().allocate(outBytes, 64);
        TaskSplit split = usesBlocks ? GridSplit.blocks(rows, n, kpad, x.ldq(), Parallel.threads())
                : WorkSplit.of(rows, n, kpad);
        Parallel.forEach(split.tasks(), i -> {
            int r0 = split.rowStart(i), r1 = split.rowEnd(i);
            MemorySegment q = x.qSegment().asSlice((long) r0 * x.ldq());
            MemorySegment sx = x.scaleSegment().asSlice(4L * r0);
            MemorySegment qs = qsum.asSlice(4L * r0 * groups);
            MemorySegment os = o.asSlice((long) r0 * n * Float.BYTES);
            try {
                if (int4) {
                    lib.gemmW4A8.invokeExact(impl, q, (long) x.ldq(), sx, qs, r1 - r0, packed, kpad, npad,
                            groupSize, groups, ws, wz, b, n, split.colStart(i), split.colEnd(i, n), os, (long) n, activation);
                } else {
                    lib.gemmW8A8.invokeExact(impl, q, (long) x.ldq(), sx, qs, r1 - r0, packed, kpad, npad,
                            ws, wz, b, n, split.colStart(i), split.colEnd(i, n), os, (long) n, activation);
                }
            } catch (Throwable e) {
                throw rethrow(e);
            }
        });
        if (o != out) MemorySegment.copy(o, 0, out, 0, outBytes);
    }

    /**
     * The segment itself when off-heap, else an off-heap copy of its first {@code bytes} (freed by the GC:
     * closing a shared arena on every call would cost a handshake with all threads).
     */
    private static MemorySegment offHeap(MemorySegment s, long bytes) {
        if (s.isNative()) return s;
        MemorySegment copy = Arena.ofAuto().allocate(bytes, 64);
        MemorySegment.copy(s, 0, copy, 0, bytes);
        return copy;
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) return r;
        if (e instanceof Error err) throw err;
        return new IllegalStateException("native kernel call failed", e);
    }
}
