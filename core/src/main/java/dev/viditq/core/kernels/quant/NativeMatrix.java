package dev.viditq.core.kernels.quant;

import dev.viditq.core.kernels.GroupStrides;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CPU's matrix engines as libviditq drives them: the float GEMM in BF16 × BF16 → FP32 on AMX-BF16
 * (tdpbf16ps) or AVX512-BF16 (vdpbf16ps), attention on either, and the register-only ceilings of these units
 * and of AMX-INT8. (The AMX-INT8 GEMMs are an ISA of {@link NativeIntKernels}.) Multi-threading happens here, as in
 * {@link NativeIntKernels}. Weights are packed once ({@link #pack}) into the layout of native/src/main/c/viditq.h;
 * activations are rounded to bf16 (nearest even) on every call, which is where this path's error comes from.
 */
public final class NativeMatrix {
    /** A unit that runs the float path. */
    public enum Unit {
        /** vdpbf16ps, 16 lanes of bf16 pairs (AMD Zen 4/5, Intel with AVX512-BF16). */
        AVX512_BF16(1),
        /** AMX tiles (Intel Sapphire Rapids and later): tdpbf16ps here, tdpbssd/tdpbsud for the integer kernels. */
        AMX(2);

        final int bit;

        Unit(int bit) {
            this.bit = bit;
        }
    }

    /** Operations of one iteration of each ceiling loop (see dispatch.c). */
    public static final long BF16_DOT_PEAK_FLOPS_PER_ITER = 16L * 64;
    public static final long AMX_INT8_PEAK_OPS_PER_ITER = 4L * 16 * 16 * 64 * 2;
    public static final long AMX_BF16_PEAK_FLOPS_PER_ITER = 4L * 16 * 16 * 32 * 2;

    /** k of packed weights and head dimensions of packed queries are multiples of this (VQ_BF16_KALIGN). */
    static final int K_ALIGN = 32;
    /** Output columns of a packed panel (VQ_NR). */
    static final int PANEL = PackedLayout.NR;

    private static final Map<NativeLibrary, NativeMatrix> INSTANCES = new ConcurrentHashMap<>();
    private static final AtomicBoolean AMX_FALLBACK_REPORTED = new AtomicBoolean();

    private final NativeLibrary lib;
    private final int units;
    private final String amxStatus;
    private final String vendor;
    private final MethodHandle pack, convert, gemm, geluTanh, attentionSizes, attentionPack, attention, attentionShort;
    private final MethodHandle bf16DotPeak, amxInt8Peak, amxBf16Peak;
    /** Per thread: bf16 activations (slot 0), every head's packed attention operands (1), one head's (2). */
    private final ThreadLocal<MemorySegment[]> scratch = ThreadLocal.withInitial(() -> new MemorySegment[4]);

    private NativeMatrix(NativeLibrary lib) {
        this.lib = lib;
        pack = lib.bind("viditq_bf16_pack", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS));
        convert = lib.bind("viditq_bf16_convert", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG));
        gemm = lib.bind("viditq_bf16_gemm", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS,
                JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
        geluTanh = lib.bind("viditq_gelu_tanh", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        attentionSizes = lib.bind("viditq_attention_sizes", FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        attentionPack = lib.bind("viditq_attention_pack", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS,
                JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        attention = lib.bind("viditq_attention", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, JAVA_LONG, JAVA_FLOAT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
        attentionShort = lib.bind("viditq_attention_short", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS,
                JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT));
        bf16DotPeak = lib.bind("viditq_bf16_dot_peak", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        amxInt8Peak = lib.bind("viditq_amx_int8_peak", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        amxBf16Peak = lib.bind("viditq_amx_bf16_peak", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        try {
            units = (int) lib.bind("viditq_matrix_units", FunctionDescriptor.of(JAVA_INT)).invokeExact();
            MemorySegment status = (MemorySegment) lib.bind("viditq_amx_status", FunctionDescriptor.of(ADDRESS)).invokeExact();
            amxStatus = status.reinterpret(512).getString(0);
            MemorySegment v = (MemorySegment) lib.bind("viditq_cpu_vendor", FunctionDescriptor.of(ADDRESS)).invokeExact();
            vendor = v.reinterpret(16).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("calling libviditq failed", t);
        }
    }

    static NativeMatrix of(NativeLibrary lib) {
        return INSTANCES.computeIfAbsent(lib, NativeMatrix::new);
    }

    /** The engines of the library in use; empty when it is not available (the reason is in NativeIntKernels). */
    public static Optional<NativeMatrix> get() {
        try {
            return Optional.of(of(NativeLibrary.get()));
        } catch (NativeLibrary.Unavailable e) {
            return Optional.empty();
        }
    }

    /** Another build of the library, e.g. native/target/amx-emulated/...: tests of the AMX code on CPUs without it. */
    public static NativeMatrix open(Path libraryFile) {
        return of(NativeLibrary.open(libraryFile));
    }

    public boolean has(Unit unit) {
        return (units & unit.bit) != 0;
    }

    /** The best unit for the float path in BF16, if any (what {@code --precision bf16} runs on). */
    public Optional<Unit> floatUnit() {
        return has(Unit.AMX) ? Optional.of(Unit.AMX) : has(Unit.AVX512_BF16) ? Optional.of(Unit.AVX512_BF16) : Optional.empty();
    }

    /**
     * The unit on which BF16 makes the float path faster than FP32, if any (what {@code --precision auto} runs on):
     * AMX; AVX512-BF16 only on AMD CPUs. Measured (docs/BENCHMARKS.md): vdpbf16ps GEMMs ran 1.7–3.0× the FP32 Java
     * GEMM on AMD Zen 4/5, but 0.8–1.0× on an Intel Xeon with AMX (there vdpbf16ps issues at half the FP32 FMA rate).
     */
    public Optional<Unit> fasterFloatUnit() {
        if (has(Unit.AMX)) return Optional.of(Unit.AMX);
        return has(Unit.AVX512_BF16) && "AuthenticAMD".equals(vendor) ? Optional.of(Unit.AVX512_BF16) : Optional.empty();
    }

    /** cpuid's vendor string, e.g. "GenuineIntel" or "AuthenticAMD". */
    public String cpuVendor() {
        return vendor;
    }

    /** Why AMX cannot run in this process ("" when it can): no AMX on the CPU, not enabled by the OS, or refused by Linux. */
    public String amxUnavailableReason() {
        return amxStatus;
    }

    /** True when the CPU has AMX but this process cannot use it (the OS or Linux said no): worth saying. */
    public boolean amxRefused() {
        return !has(Unit.AMX) && !amxStatus.isEmpty() && !amxStatus.startsWith("this CPU has no AMX");
    }

    /** Says once per process (on stderr) why a CPU with AMX runs {@code fallback} instead. */
    public void reportAmxFallback(String fallback) {
        if (amxRefused() && AMX_FALLBACK_REPORTED.compareAndSet(false, true)) {
            System.err.println("[viditq] AMX is not usable: " + amxStatus + "; falling back to " + fallback);
        }
    }

    // ------------------------------------------------------------------ float GEMM

    /** A weight [n, k] rounded to bf16 and packed for {@link #gemm}: immutable, off-heap, freed by the GC. */
    public record PackedBf16(int n, int k, int kpad, MemorySegment panels) {
        public long byteSize() {
            return panels.byteSize();
        }
    }

    /**
     * Packs an F32, BF16 or F16 weight [n, k] (read in place, possibly unaligned), over the thread pool. A
     * memory-mapped weight gives its pages back afterwards: the GEMMs read only the packed copy, and the checkpoint's
     * pages would otherwise stay resident beside it (they stay in the page cache; touching them again only faults them
     * in).
     */
    public PackedBf16 pack(Tensor w) {
        return pack(w, Arena.ofAuto());
    }

    /** {@link #pack(Tensor)} into memory of {@code arena} (a shared or global one: the pool's threads write it). */
    public PackedBf16 pack(Tensor w, Arena arena) {
        int code = switch (w.dtype()) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
            default -> throw new IllegalArgumentException("bf16 packing takes F32, BF16 or F16 weights, not " + w);
        };
        if (w.rank() != 2) throw new IllegalArgumentException("bf16 packing takes a 2-D weight, not " + w);
        int n = w.size(0), k = w.size(1), kpad = Math.ceilDiv(k, K_ALIGN) * K_ALIGN, panels = Math.ceilDiv(n, PANEL);
        MemorySegment out = arena.allocate((long) panels * PANEL * kpad * 2, Tensor.ALIGNMENT);
        MemorySegment data = w.data();
        Parallel.forEach(panels, p -> {
            try {
                pack.invokeExact(data, code, n, k, kpad, p * PANEL, Math.min(n, (p + 1) * PANEL), out);
            } catch (Throwable e) {
                throw rethrow(e);
            }
        });
        if (data.isMapped()) data.unload();
        return new PackedBf16(n, k, kpad, out);
    }

    /**
     * out[m, n] = bf16(x)[m, k] · W[n, k]ᵀ (+ bias), FP32 accumulation, on {@code unit}. x, bias, out are F32
     * segments (off-heap ones are used in place).
     */
    public void gemm(Unit unit, MemorySegment x, int m, int k, PackedBf16 w, MemorySegment bias, MemorySegment out) {
        if (!has(unit)) throw new IllegalStateException(unit + " does not run here" + (unit == Unit.AMX ? ": " + amxStatus : ""));
        if (w.k() != k) throw new IllegalArgumentException("packed weight of k=" + w.k() + " does not take k=" + k);
        int n = w.n();
        need(x, (long) m * k * Float.BYTES, "gemm input x [" + m + ", " + k + "]");
        need(out, (long) m * n * Float.BYTES, "gemm output [" + m + ", " + n + "]");
        if (bias != null) need(bias, (long) n * Float.BYTES, "gemm bias [" + n + "]");
        if (m == 0 || n == 0) return;
        MemorySegment a = bf16Rows(x, m, k, w.kpad());
        MemorySegment b = bias == null ? MemorySegment.NULL : offHeap(bias, (long) n * Float.BYTES);
        long outBytes = (long) m * n * Float.BYTES;
        MemorySegment o = out.isNative() ? out : Arena.ofAuto().allocate(outBytes, 64);
        TaskSplit split = unit == Unit.AMX
                ? GridSplit.blocks(m, n, k, 2L * w.kpad(), Parallel.threads())
                : GridSplit.of(m, n, k, 8, PANEL, Parallel.threads());
        Parallel.forEach(split.tasks(), i -> {
            int r0 = split.rowStart(i), r1 = split.rowEnd(i);
            try {
                int status = (int) gemm.invokeExact(unit.bit, a.asSlice(2L * r0 * w.kpad()), (long) w.kpad(), r1 - r0,
                        w.panels(), w.kpad(), b, n, split.colStart(i), split.colEnd(i, n),
                        o.asSlice((long) r0 * n * Float.BYTES), (long) n);
                if (status != 0) throw new IllegalStateException(unit + " gemm refused the call");
            } catch (Throwable e) {
                throw rethrow(e);
            }
        });
        if (o != out) MemorySegment.copy(o, 0, out, 0, outBytes);
    }

    /**
     * x[0, n) = GELU-tanh(x) in place, on AVX-512 over the pool: the Java kernels' bits (the same operations), without
     * their JIT warm-up (a pass run once per step, as a caption projection's, ran interpreted for many steps).
     */
    public void geluTanh(MemorySegment x, long n) {
        long bytes = n * Float.BYTES;
        MemorySegment xs = offHeap(x, bytes);
        long chunk = 1 << 16;
        Parallel.forEach(Math.toIntExact(Math.ceilDiv(n, chunk)), c -> {
            long from = c * chunk, count = Math.min(n, from + chunk) - from;
            try {
                int status = (int) geluTanh.invokeExact(xs.asSlice(from * Float.BYTES), count);
                if (status != 0) throw new IllegalStateException("no AVX512-BF16 unit runs here for the GELU pass");
            } catch (Throwable e) {
                throw rethrow(e);
            }
        });
        if (xs != x) MemorySegment.copy(xs, 0, x, 0, bytes);
    }

    /** x [m, k] rounded to bf16 rows of lda elements (zero past k), in this thread's scratch, over the pool. */
    private MemorySegment bf16Rows(MemorySegment x, int m, int k, int lda) {
        MemorySegment xs = offHeap(x, (long) m * k * Float.BYTES);
        MemorySegment a = scratch(0, 2L * m * lda);
        int chunk = Math.max(1, (1 << 15) / Math.max(1, k));
        Parallel.forEach(Math.ceilDiv(m, chunk), c -> {
            int r0 = c * chunk, r1 = Math.min(m, r0 + chunk);
            try {
                int status = (int) convert.invokeExact(xs.asSlice((long) r0 * k * Float.BYTES), (long) k, r1 - r0, k,
                        a.asSlice(2L * r0 * lda), (long) lda);
                if (status != 0) throw new IllegalStateException("no unit with BF16 conversions runs here");
            } catch (Throwable e) {
                throw rethrow(e);
            }
        });
        return a;
    }

    // ------------------------------------------------------------------ attention

    /** Largest head dimension of the BF16 attention (ATTENTION_MAX_D in dispatch.c). */
    public static final int ATTENTION_MAX_HEAD_DIM = 512;

    /**
     * Up to this many keys (and head dimensions up to {@link #SHORT_MAX_HEAD_DIM}, no biases) {@link #attention}
     * computes from the FP32 rows on AVX-512 whichever unit was asked (VQ_SHORT_KEYS in viditq.h): a video model's
     * temporal attention has thousands of heads of 16 keys, and packing each into tiles padded to 32 rows cost more
     * than its products.
     */
    public static final int SHORT_MAX_KEYS = 64, SHORT_MAX_HEAD_DIM = 128;

    /** Whether {@link #attention} runs a head dimension of d on {@code unit} (1 ≤ d ≤ 512). */
    public boolean runsAttention(Unit unit, int headDim) {
        return has(unit) && headDim >= 1 && headDim <= ATTENTION_MAX_HEAD_DIM;
    }

    /**
     * Multi-head attention softmax(scale · q·kᵀ + keyBias + headBias)·v on {@code unit}: q, k, v rounded to bf16,
     * q·kᵀ and p·v with FP32 accumulation (tdpbf16ps on AMX, vdpbf16ps on AVX512-BF16), scores and softmax in
     * FP32, probabilities rounded to bf16 for the product with v; memory O(tile) beside the packed operands. Few keys
     * (see {@link #SHORT_MAX_KEYS}) take the same arithmetic without packing.
     * Layout as {@code Kernels.attention}; {@code keyBias} F32 [lk] or null, {@code headBias} F32
     * [heads, lq, lk] or null.
     */
    public void attention(Unit unit, MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v,
                          int vStride, MemorySegment out, int oStride, int lq, int lk, int heads, int d, float scale,
                          MemorySegment keyBias, MemorySegment headBias) {
        attentionGroups(unit, 1, GroupStrides.consecutive(lq, lk, qStride, kStride, vStride, oStride), q, qStride, k,
                kStride, v, vStride, out, oStride, lq, lk, heads, d, scale, keyBias, headBias);
    }

    /**
     * {@link #attention} over {@code groups} groups of rows (as {@code Kernels.attentionGroups}: group g's operands
     * g·{@code between} floats on, the biases the same for every group), in the same pool calls: the units of work are
     * the groups' heads together, so an image's guided batch of two takes the pool calls of one sample, and each head's
     * arithmetic is that of a call of its own.
     */
    public void attentionGroups(Unit unit, int groups, GroupStrides between, MemorySegment q, int qStride,
                                MemorySegment k, int kStride, MemorySegment v, int vStride, MemorySegment out,
                                int oStride, int lq, int lk, int heads, int d, float scale, MemorySegment keyBias,
                                MemorySegment headBias) {
        if (!runsAttention(unit, d)) {
            throw new IllegalStateException(unit + " attention does not run here (d=" + d + ")" + (unit == Unit.AMX ? ": " + amxStatus : ""));
        }
        if (lk < 1) throw new IllegalArgumentException("attention needs at least one key");
        if (groups < 0) throw new IllegalArgumentException("attention over " + groups + " groups");
        if (lq == 0 || heads == 0 || groups == 0) return;
        if ((long) groups * heads > Integer.MAX_VALUE) throw new IllegalArgumentException(groups + " groups of " + heads + " heads");
        MemorySegment qs = offHeap(q, 4L * GroupStrides.extent(groups, between.q(), lq, qStride, heads, d, "q"));
        MemorySegment ks = offHeap(k, 4L * GroupStrides.extent(groups, between.k(), lk, kStride, heads, d, "k"));
        MemorySegment vs = offHeap(v, 4L * GroupStrides.extent(groups, between.v(), lk, vStride, heads, d, "v"));
        MemorySegment keys = keyBias == null ? MemorySegment.NULL : offHeap(keyBias, 4L * lk);
        MemorySegment perHead = headBias == null ? null : offHeap(headBias, 4L * heads * lq * lk);
        long outBytes = 4L * GroupStrides.extent(groups, between.out(), lq, oStride, heads, d, "out");
        // a heap output goes through native memory holding its contents: what lies beside the heads must stay as it was
        MemorySegment o = out.isNative() ? out : Arena.ofAuto().allocate(outBytes, 64).copyFrom(out.asSlice(0, outBytes));
        Heads all = new Heads(qs, qStride, ks, kStride, vs, vStride, o, oStride, lq, lk, heads, d, groups, between);
        if (keyBias == null && headBias == null && lk <= SHORT_MAX_KEYS && d <= SHORT_MAX_HEAD_DIM && has(Unit.AVX512_BF16)) {
            attendShort(all, scale);
        } else {
            attendPacked(unit, all, keys, perHead, scale);
        }
        if (o != out) MemorySegment.copy(o, 0, out, 0, outBytes);
    }

    /**
     * The heads of every group of one call, numbered u = g·heads + h: where head u's queries, keys, values and output
     * start (a head's rows are {@code qStride}, ... floats apart from there).
     */
    private record Heads(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                         MemorySegment out, int oStride, int lq, int lk, int heads, int d, int groups,
                         GroupStrides between) {
        int count() {
            return groups * heads;
        }

        MemorySegment q(int u) {
            return q.asSlice(start(u, between.q()));
        }

        MemorySegment k(int u) {
            return k.asSlice(start(u, between.k()));
        }

        MemorySegment v(int u) {
            return v.asSlice(start(u, between.v()));
        }

        MemorySegment out(int u) {
            return out.asSlice(start(u, between.out()));
        }

        /** Bytes from an operand's start to head u's first element, its groups groupStride floats apart. */
        private long start(int u, long groupStride) {
            return 4L * ((u / heads) * groupStride + (long) (u % heads) * d);
        }

        /** Head u's head index within its group (the per-head bias is the same for every group). */
        int head(int u) {
            return u % heads;
        }
    }

    /** The attention of every head on packed tiles: each head packed once, then its query blocks attended. */
    private void attendPacked(Unit unit, Heads all, MemorySegment keys, MemorySegment perHead, float scale) {
        int lq = all.lq(), units = all.count();
        long[] sizes = attentionSizes(lq, all.lk(), all.d());
        AttentionCall call = new AttentionCall(unit, all, sizes, keys, perHead, scale);
        int blocks = Math.ceilDiv(lq, 32);
        // query blocks of 32 (AMX's tile rows) per task: about 4 tasks per thread over all heads, for balance
        int per = Math.max(1, (int) Math.min(blocks, (long) units * blocks / (4L * Parallel.threads())));
        int tasksPerHead = Math.ceilDiv(blocks, per);
        if (tasksPerHead == 1) {
            // a task per head packs it into its thread's buffer and attends at once, while the packed operands are in
            // that core's cache (the buffer is reused by the thread's next head)
            Parallel.forEach(units, u -> {
                Packed p = new Packed(scratch(2, 2L * call.packedElements()), sizes);
                packHead(call, u, p);
                attendHead(call, u, p, 0, lq);
            });
        } else {
            MemorySegment slots = scratch(1, 2L * call.packedElements() * units);   // every head's, for the second pass
            Parallel.forEach(units, u -> packHead(call, u, call.slot(slots, u)));
            Parallel.forEach(units * tasksPerHead, i -> {
                int u = i / tasksPerHead, q0 = i % tasksPerHead * per * 32;
                attendHead(call, u, call.slot(slots, u), q0, Math.min(lq, q0 + per * 32));
            });
        }
    }

    /**
     * Attention over few keys from the rows in place: tasks of whole heads of one group (about four per thread over
     * all groups); when there are fewer heads than that, the queries of each head are split too, in blocks of 4 (the
     * kernel's query block). A query's arithmetic does not depend on its task, so every split gives the same bits.
     */
    private void attendShort(Heads all, float scale) {
        int lq = all.lq(), heads = all.heads(), groups = all.groups();
        int wanted = 4 * Parallel.threads(), queryBlocks = Math.ceilDiv(lq, 4);
        int headTasks = Math.min(heads, Math.ceilDiv(wanted, groups));
        int queryTasks = (long) groups * heads >= wanted ? 1 : Math.min(queryBlocks, Math.ceilDiv(wanted, groups * heads));
        int perGroup = headTasks * queryTasks;
        Parallel.forEach(groups * perGroup, i -> {
            int g = i / perGroup, ht = i % perGroup / queryTasks, qt = i % queryTasks;
            int h0 = (int) ((long) heads * ht / headTasks), h1 = (int) ((long) heads * (ht + 1) / headTasks);
            int q0 = 4 * (int) ((long) queryBlocks * qt / queryTasks);
            int q1 = Math.min(lq, 4 * (int) ((long) queryBlocks * (qt + 1) / queryTasks));
            int first = g * heads;   // the group's head 0: the kernel takes heads [h0, h1) from there
            try {
                int status = (int) attentionShort.invokeExact(all.q(first), (long) all.qStride(), all.k(first),
                        (long) all.kStride(), all.v(first), (long) all.vStride(), all.out(first), (long) all.oStride(),
                        lq, all.lk(), all.d(), scale, h0, h1, q0, q1);
                if (status != 0) {
                    throw new IllegalStateException("attention over few keys refused lk=" + all.lk() + " d=" + all.d()
                            + ": no AVX512-BF16 here, or no memory for its staging buffer");
                }
            } catch (Throwable e) {
                throw rethrow(e);
            }
        });
    }

    /** One attention call on packed tiles: the heads, the packed sizes of one head, the biases. */
    private record AttentionCall(Unit unit, Heads heads, long[] sizes, MemorySegment keyBias, MemorySegment headBias,
                                 float scale) {
        /** bf16 elements of one head's packed queries, keys and values. */
        long packedElements() {
            return sizes[0] + sizes[1] + sizes[2];
        }

        /** Head u's place in a buffer of every head's packed operands. */
        Packed slot(MemorySegment slots, int u) {
            return new Packed(slots.asSlice(2L * packedElements() * u), sizes);
        }
    }

    /** One head's packed operands: queries, then keys, then values ({@code sizes} in bf16 elements). */
    private record Packed(MemorySegment base, long[] sizes) {
        MemorySegment queries() {
            return base;
        }

        MemorySegment keys() {
            return base.asSlice(2 * sizes[0]);
        }

        MemorySegment values() {
            return base.asSlice(2 * (sizes[0] + sizes[1]));
        }
    }

    private void packHead(AttentionCall c, int u, Packed p) {
        Heads all = c.heads();
        int d = all.d();
        try {
            int status = (int) attentionPack.invokeExact(all.q(u), (long) all.qStride(), all.k(u), (long) all.kStride(),
                    all.v(u), (long) all.vStride(), all.lq(), all.lk(), d, p.queries(), p.keys(), p.values());
            if (status != 0) throw new IllegalStateException("BF16 attention refused to pack d=" + d);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** Output rows [q0, q1) of head u, from its packed operands. */
    private void attendHead(AttentionCall c, int u, Packed p, int q0, int q1) {
        Heads all = c.heads();
        int lq = all.lq(), lk = all.lk(), d = all.d();
        MemorySegment rows = c.headBias() == null ? MemorySegment.NULL : c.headBias().asSlice(4L * all.head(u) * lq * lk);
        try {
            int status = (int) attention.invokeExact(c.unit().bit, p.queries(), p.keys(), p.values(), c.keyBias(), rows,
                    (long) lk, c.scale(), lq, lk, d, q0, q1, all.out(u), (long) all.oStride());
            if (status != 0) throw new OutOfMemoryError(c.unit() + " attention: no scratch memory for d=" + d);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private long[] attentionSizes(int lq, int lk, int d) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(3 * Long.BYTES, 8);
            attentionSizes.invokeExact(lq, lk, d, s);
            return s.toArray(JAVA_LONG);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    // ------------------------------------------------------------------ ceilings

    /**
     * Runs {@code iters} iterations of the register-only loop of a unit on the calling thread; false when the unit
     * does not run here. {@code amxInt8} picks AMX-INT8 over AMX-BF16 for {@link Unit#AMX}.
     */
    public boolean peak(Unit unit, boolean amxInt8, long iters) {
        try {
            long r = unit == Unit.AVX512_BF16 ? (long) bf16DotPeak.invokeExact(iters)
                    : amxInt8 ? (long) amxInt8Peak.invokeExact(iters) : (long) amxBf16Peak.invokeExact(iters);
            return r != -1;
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** This thread's scratch segment {@code slot} of at least {@code bytes}, grown as needed and kept. */
    private MemorySegment scratch(int slot, long bytes) {
        MemorySegment[] mine = scratch.get();
        if (mine[slot] == null || mine[slot].byteSize() < bytes) mine[slot] = Arena.ofAuto().allocate(Math.max(bytes, 64), 64);
        return mine[slot];
    }

    private static void need(MemorySegment s, long bytes, String what) {
        if (s.byteSize() < bytes) throw new IllegalArgumentException(what + " needs " + bytes + " bytes, segment has " + s.byteSize());
    }

    /** The segment itself when off-heap, else an off-heap copy of its first {@code bytes}. */
    private static MemorySegment offHeap(MemorySegment s, long bytes) {
        if (s.isNative()) return s;
        MemorySegment copy = Arena.ofAuto().allocate(Math.max(bytes, 1), 64);
        MemorySegment.copy(s, 0, copy, 0, bytes);
        return copy;
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) return r;
        if (e instanceof Error err) throw err;
        return new IllegalStateException("native kernel call failed", e);
    }

    @Override
    public String toString() {
        return "NativeMatrix[" + lib.path + ", units " + (has(Unit.AMX) ? "amx " : "") + (has(Unit.AVX512_BF16) ? "avx512-bf16" : "") + "]";
    }
}
