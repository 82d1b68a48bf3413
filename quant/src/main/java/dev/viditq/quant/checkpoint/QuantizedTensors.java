package dev.viditq.quant.checkpoint;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.regex.Pattern;

/**
 * Names and encodings of the tensors a quantized checkpoint adds per quantized layer {@code L}:
 * <ul>
 *   <li>{@code L.w<bits>.q} — the integers, I8 [out, in] (5–8 bits) or I4 [out, in] (2–4 bits, two per byte,
 *       low nibble first);</li>
 *   <li>{@code L.w<bits>.scale} — F32 [out, groups]; {@code L.w<bits>.zero} — I8 [out, groups] (asymmetric only);</li>
 *   <li>{@code L.smooth} — F32 [in], the balancing vector; {@code L.act_range} — F32 [buckets · halves], static
 *       activation ranges;</li>
 *   <li>{@code L.low_rank.l1} — BF16 [out, rank], {@code L.low_rank.l2} — BF16 [rank, in]: the low-rank branch, in the
 *       balanced input basis (before the rotation).</li>
 * </ul>
 * {@code L.weight} is kept (float) only when the bit map runs some steps of L in float.
 */
final class QuantizedTensors {
    /** Every name this class adds, for hiding them from the model builder. */
    static final Pattern EXTRA = Pattern.compile(".*\\.(w[2-8]\\.(q|scale|zero)|smooth|act_range|low_rank\\.l[12])");

    private QuantizedTensors() {}

    static String q(String layer, int bits) { return layer + ".w" + bits + ".q"; }
    static String scale(String layer, int bits) { return layer + ".w" + bits + ".scale"; }
    static String zero(String layer, int bits) { return layer + ".w" + bits + ".zero"; }
    static String smooth(String layer) { return layer + ".smooth"; }
    static String actRange(String layer) { return layer + ".act_range"; }
    static String lowRankUp(String layer) { return layer + ".low_rank.l1"; }
    static String lowRankDown(String layer) { return layer + ".low_rank.l2"; }

    static Tensor bytes(byte[] v, long... shape) {
        Tensor t = Tensor.zeros(DType.I8, shape);
        MemorySegment.copy(v, 0, t.data(), ValueLayout.JAVA_BYTE, 0, v.length);
        return t;
    }
}
