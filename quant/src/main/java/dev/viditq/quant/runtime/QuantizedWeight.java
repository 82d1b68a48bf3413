package dev.viditq.quant.runtime;

import dev.viditq.nn.layers.WeightStorage;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.quant.config.QuantConfig;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * One weight matrix [n, k] quantized to {@code bits}: W[r][c] ≈ scale[r][g] · (q[r][c] − zero[r][g]), g = c / groupSize.
 * Values of 5–8 bits are held as I8 (6-bit: q in [−32, 31]) and run on the int8 kernel; 2–4 bits as I4 (two per
 * byte, low nibble first) on the int4 kernel — exactly the tensors a quantized checkpoint stores, so the same object
 * serves the quantizer (values on the heap, {@link #fromRowMajor}), the checkpoint writer ({@link #values}) and the
 * loader (values memory-mapped from the file, never copied). It is checked once, here, whichever made it.
 *
 * <p>The walk of a weight from file to kernel, one direction only: {@code ModelLoader} (nn) finds the quantization
 * module's checkpoint adapter, which parses the plan once ({@code QuantizedCheckpointReader}) and hands the family
 * builder a view in which each quantized Linear is declared by shape, so the Linear holds no integer tensor
 * ({@code WeightStorage.QUANTIZED}); then, layer by layer, the reader makes this object from the mapped tensors,
 * {@link #pack()} lays it out for the integer kernels (core) and {@link QuantizedExecutor} runs it.
 *
 * <p>Room for what comes next: another way to choose the integers (e.g. GPTQ) makes the same object; a low-rank
 * branch beside the integer GEMM belongs to the layer ({@link QuantizedLayer}), run by {@link QuantizedExecutor}
 * after the GEMM; another kernel layout (e.g. tile panels for a matrix engine) is one more case of {@link #pack()},
 * decided once per load.
 *
 * @param groupSize k for one group per row (per-output-channel scales)
 * @param values    I8 [n, k] for 5–8 bits, I4 [n, k] for 2–4 bits, each value in [−2^(bits−1), 2^(bits−1) − 1]
 * @param scales    [n][groups], finite and non-negative, each a value of {@code scaleType} (held widened to F32)
 * @param zeros     [n][groups] in the same signed domain as the values, or null for symmetric weights
 * @param scaleType the type the scales are stored in (the checkpoint's scale tensor dtype)
 */
public record QuantizedWeight(int bits, int n, int k, int groupSize, Tensor values, float[] scales, byte[] zeros,
                              QuantConfig.ScaleType scaleType) {
    public QuantizedWeight {
        if (scaleType == null) throw new IllegalArgumentException("the scales' stored type must be given");
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("weight bits " + bits + " outside 2..8");
        DType container = container(bits);
        if (values.dtype() != container || !Arrays.equals(values.shape(), new long[]{n, k})) {
            throw new IllegalArgumentException(bits + "-bit weights need " + container + " [" + n + ", " + k + "] values, got "
                    + values.dtype() + " " + Arrays.toString(values.shape()));
        }
        if (groupSize < 1 || groupSize > k) throw new IllegalArgumentException("group size " + groupSize + " for rows of " + k);
        int groups = Math.ceilDiv(k, groupSize);
        if (scales.length != n * groups) {
            throw new IllegalArgumentException(scales.length + " scales for " + n + " rows × " + groups + " groups");
        }
        if (zeros != null && zeros.length != n * groups) {
            throw new IllegalArgumentException(zeros.length + " zero points for " + n + " rows × " + groups + " groups");
        }
        if (groups > 1 && bits > 4) throw new IllegalArgumentException("per-group scales need weights of at most 4 bits, got " + bits);
        for (float s : scales) if (!Float.isFinite(s) || s < 0) throw new IllegalArgumentException("weight scale " + s + " is not a finite non-negative number");
        for (float s : scales) {
            if (scaleType.round(s) != s) {   // stored as it is: a scale the type cannot hold would dequantize differently
                throw new IllegalArgumentException("weight scale " + s + " is not a " + scaleType + " value (round it before choosing the integers)");
            }
        }
        int lo = lowest(bits), hi = highest(bits);
        if (zeros != null) for (byte v : zeros) if (v < lo || v > hi) throw new IllegalArgumentException(bits + "-bit zero point " + v + " outside [" + lo + ", " + hi + "]");
        if (bits != 8 && bits != 4) { // every I8 / I4 value is a valid 8- / 4-bit weight
            MemorySegment s = values.data();
            for (long i = 0, count = (long) n * k; i < count; i++) {
                int v = value(s, i, bits);
                if (v < lo || v > hi) throw new IllegalArgumentException(bits + "-bit weight value " + v + " outside [" + lo + ", " + hi + "]");
            }
        }
    }

    /** Weights with F32 scales. */
    public QuantizedWeight(int bits, int n, int k, int groupSize, Tensor values, float[] scales, byte[] zeros) {
        this(bits, n, k, groupSize, values, scales, zeros, QuantConfig.ScaleType.F32);
    }

    /**
     * From row-major values q[r·k + c] (what a quantizer computes), held on the heap in the stored encoding; 5–8-bit
     * values are taken as they are (the caller hands {@code q} over).
     */
    public static QuantizedWeight fromRowMajor(int bits, int n, int k, int groupSize, byte[] q, float[] scales, byte[] zeros,
                                               QuantConfig.ScaleType scaleType) {
        if ((long) n * k != q.length) throw new IllegalArgumentException(q.length + " values for [" + n + ", " + k + "]");
        return new QuantizedWeight(bits, n, k, groupSize, encode(q, n, k, container(bits)), scales, zeros, scaleType);
    }

    /** {@link #fromRowMajor(int, int, int, int, byte[], float[], byte[], QuantConfig.ScaleType)} with F32 scales. */
    public static QuantizedWeight fromRowMajor(int bits, int n, int k, int groupSize, byte[] q, float[] scales, byte[] zeros) {
        return fromRowMajor(bits, n, k, groupSize, q, scales, zeros, QuantConfig.ScaleType.F32);
    }

    /** The container of {@code bits}-bit values: I4 up to 4 bits, I8 above. */
    public static DType container(int bits) {
        return bits <= 4 ? DType.I4 : DType.I8;
    }

    public int groups() {
        return Math.ceilDiv(k, groupSize);
    }

    /** True when the int4 kernel runs it. */
    public boolean int4() {
        return bits <= 4;
    }

    /** Bytes of what the checkpoint stores for it: values, scales and zero points ({@link #storedBytes(int, int, int, int, boolean, QuantConfig.ScaleType)}). */
    public long storedBytes() {
        return storedBytes(bits, n, k, groupSize, zeros == null, scaleType);
    }

    /**
     * Bytes a checkpoint stores for a [n, k] weight at {@code bits} with {@code groupSize} inputs per scale (k: one
     * per output channel): the values in their container ({@link #container}), one scale of {@code scaleType} per
     * row and group and, for asymmetric weights, one I8 zero point per scale — the tensors
     * {@code L.w<bits>.q / .scale / .zero}. The one place this accounting lives: reports ("stored bits / weight") and
     * the mixed-precision search's byte budgets use it, and a test checks it against the tensors of a written folder.
     */
    public static long storedBytes(int bits, int n, int k, int groupSize, boolean symmetric, QuantConfig.ScaleType scaleType) {
        long scales = (long) n * Math.ceilDiv(k, Math.min(groupSize, k));
        return container(bits).byteSize((long) n * k) + scaleType.dtype().byteSize(scales)
                + (symmetric ? 0 : scales * DType.I8.elementBytes());
    }

    /** The scales as the checkpoint stores them: [n, groups] of {@link #scaleType} (exact: they are values of it). */
    public Tensor scaleTensor() {
        Tensor f32 = Tensor.of(scales, n, groups());
        return scaleType == QuantConfig.ScaleType.F32 ? f32 : f32.to(scaleType.dtype());
    }

    /** The value at row-major index {@code i}. */
    public int value(long i) {
        return value(values.data(), i, bits);
    }

    /** The row-major values q[r·k + c] on the heap (a copy), e.g. for a format that lays them out its own way. */
    public byte[] rowMajor() {
        byte[] q = new byte[n * k];
        MemorySegment s = values.data();
        for (int i = 0; i < q.length; i++) q[i] = (byte) value(s, i, bits);
        return q;
    }

    /**
     * The weights in the kernels' packed layout, read straight from {@link #values}; a memory-mapped {@code values}
     * gives its pages back afterwards (they stay in the page cache; touching them again would only fault them in).
     */
    public PackedWeight pack() {
        int[] z = null;
        if (zeros != null) {
            z = new int[zeros.length];
            for (int i = 0; i < z.length; i++) z[i] = zeros[i];
        }
        MemorySegment s = values.data();
        PackedWeight p = int4() ? PackedInt4Weight.packNibbles(s, n, k, groupSize == k ? 0 : groupSize, scales, z)
                : PackedInt8Weight.pack(s, n, k, scales, z);
        if (s.isMapped()) s.unload();
        return p;
    }

    /** W[r][c] as the integers stand for it (the simulated path multiplies with these). */
    public float[] dequantize() {
        float[] w = new float[n * k];
        int groups = groups();
        MemorySegment s = values.data();
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                int g = r * groups + c / groupSize;
                int zero = zeros == null ? 0 : zeros[g];
                w[r * k + c] = scales[g] * (value(s, (long) r * k + c, bits) - zero);
            }
        }
        return w;
    }

    private static int lowest(int bits) {
        return -(1 << (bits - 1));
    }

    private static int highest(int bits) {
        return (1 << (bits - 1)) - 1;
    }

    private static int value(MemorySegment s, long i, int bits) {
        if (bits > 4) return s.get(ValueLayout.JAVA_BYTE, i);
        int b = s.get(ValueLayout.JAVA_BYTE, i >>> 1);
        return (i & 1) == 0 ? (b << 28) >> 28 : (b << 24) >> 28;   // sign-extend the nibble
    }

    /** Row-major values in {@code container}'s encoding (I4: two per byte, low nibble first), on the heap. */
    private static Tensor encode(byte[] q, int n, int k, DType container) {
        byte[] stored;
        if (container == DType.I8) {
            stored = q;
        } else {
            stored = new byte[(q.length + 1) / 2];
            for (int i = 0; i < q.length; i++) {
                int nib = q[i] & 0xF;
                stored[i >>> 1] |= (byte) ((i & 1) == 0 ? nib : nib << 4);
            }
        }
        return new Tensor(container, new long[]{n, k}, MemorySegment.ofArray(stored));
    }
}
