package dev.viditq.quant.checkpoint;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.QuantizedWeight;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One bit width of a quantized layer as its checkpoint stores it, checked against the plan without copying the
 * integers: {@code q} stays the (memory-mapped) I8 / I4 tensor of the file. From here the weights are either packed
 * for the kernels straight from the mapping ({@link #pack()}, what loading does) or decoded to row-major bytes
 * ({@link #decode()}, for export and simulation). Checks: dtype and shape of every tensor, scales finite and
 * non-negative, zero points and every integer inside the bit width's range.
 */
record StoredWeight(String layer, int bits, int n, int k, int groupSize, Tensor q, float[] scales, byte[] zeros) {

    static StoredWeight read(TensorFile file, LayerPlan lp, int bits, QuantPlan plan) {
        Path path = file.path();
        String qName = QuantizedTensors.q(lp.name(), bits);
        Tensor q = need(file, qName);
        DType expected = bits <= 4 ? DType.I4 : DType.I8;
        if (q.dtype() != expected || !Arrays.equals(q.shape(), new long[]{lp.out(), lp.in()})) {
            throw CheckpointException.tensor(path, qName, "is " + q.dtype() + " " + QuantizedCheckpoint.shape(q) + "; the plan says "
                    + bits + "-bit weights " + expected + " [" + lp.out() + ", " + lp.in() + "]");
        }
        int groupSize = plan.weights().granularity() == QuantConfig.WeightGranularity.GROUP
                ? Math.min(plan.weights().groupSize(), lp.in()) : lp.in();
        int groups = Math.ceilDiv(lp.in(), groupSize);
        long[] scaleShape = {lp.out(), groups};
        String sName = QuantizedTensors.scale(lp.name(), bits);
        Tensor scale = need(file, sName);
        if (scale.dtype() != DType.F32 || !Arrays.equals(scale.shape(), scaleShape)) {
            throw CheckpointException.tensor(path, sName, "is " + scale.dtype() + " " + QuantizedCheckpoint.shape(scale)
                    + " but its weights " + QuantizedCheckpoint.shape(q) + " need F32 " + Arrays.toString(scaleShape) + " scales");
        }
        byte[] zeros = null;
        String zName = QuantizedTensors.zero(lp.name(), bits);
        if (!plan.weights().symmetric()) {
            Tensor z = need(file, zName);
            if (z.dtype() != DType.I8 || !Arrays.equals(z.shape(), scaleShape)) {
                throw CheckpointException.tensor(path, zName, "is " + z.dtype() + " " + QuantizedCheckpoint.shape(z)
                        + " but its weights " + QuantizedCheckpoint.shape(q) + " need I8 " + Arrays.toString(scaleShape) + " zero points");
            }
            zeros = QuantizedTensors.decode(z);
        } else if (file.contains(zName)) {
            throw CheckpointException.tensor(path, zName, "exists but the plan says the weights are symmetric");
        }
        StoredWeight w = new StoredWeight(lp.name(), bits, lp.out(), lp.in(), groupSize, q, scale.toFloatArray(), zeros);
        try {
            w.checkValues();
        } catch (IllegalArgumentException e) {
            throw CheckpointException.tensor(path, qName, "does not hold valid " + bits + "-bit weights: " + e.getMessage());
        }
        return w;
    }

    static Tensor need(TensorFile file, String name) {
        if (!file.contains(name)) throw CheckpointException.tensor(file.path(), name, "is missing from the quantized checkpoint");
        return file.get(name);
    }

    /** Scales, zero points and integers within their ranges (the messages {@link QuantizedWeight} gives). */
    private void checkValues() {
        for (float s : scales) if (!Float.isFinite(s) || s < 0) throw new IllegalArgumentException("weight scale " + s + " is not a finite non-negative number");
        int lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
        if (zeros != null) for (byte v : zeros) if (v < lo || v > hi) throw new IllegalArgumentException(bits + "-bit zero point " + v + " outside [" + lo + ", " + hi + "]");
        if (bits == 8 || bits == 4) return; // every I8 / I4 value is a valid 8- / 4-bit weight
        MemorySegment s = q.data();
        long count = (long) n * k;
        for (long i = 0; i < count; i++) {
            int v = value(s, i);
            if (v < lo || v > hi) throw new IllegalArgumentException(bits + "-bit weight value " + v + " outside [" + lo + ", " + hi + "]");
        }
    }

    private boolean int4() {
        return bits <= 4;
    }

    private int value(MemorySegment s, long i) {
        if (!int4()) return s.get(ValueLayout.JAVA_BYTE, i);
        int b = s.get(ValueLayout.JAVA_BYTE, i >>> 1);
        return (i & 1) == 0 ? (b << 28) >> 28 : (b << 24) >> 28;
    }

    /** Packed for the kernels, read straight from the stored tensor; its mapped pages are released afterwards. */
    PackedWeight pack() {
        int[] z = null;
        if (zeros != null) {
            z = new int[zeros.length];
            for (int i = 0; i < z.length; i++) z[i] = zeros[i];
        }
        MemorySegment s = q.data();
        PackedWeight p = int4() ? PackedInt4Weight.packNibbles(s, n, k, groupSize == k ? 0 : groupSize, scales, z)
                : PackedInt8Weight.pack(s, n, k, scales, z);
        // the integers now live in the packed copy: drop the file pages just read from this process's resident set
        // (they stay in the page cache; touching them again would only fault them back in)
        if (s.isMapped()) s.unload();
        return p;
    }

    /** The row-major integers on the heap, as {@link QuantizedWeight} holds them. */
    QuantizedWeight decode() {
        return new QuantizedWeight(bits, n, k, groupSize, QuantizedTensors.decode(q), scales, zeros);
    }
}
