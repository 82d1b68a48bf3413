package dev.viditq.quant.checkpoint;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.quant.plan.LayerPlan;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * A CRC-32C per quantized layer over everything stored for it — per bit width the integers, scales and zero points,
 * then the balancing vector, the static ranges and the low-rank factors — written into the checkpoint's metadata beside the plan. Shapes
 * and ranges are checked tensor by tensor; this catches what those checks cannot: scales or integers replaced by
 * other well-formed values (a scale of another layer, a tampered file), which would otherwise run silently wrong.
 * Checkpoints written before the checksums existed have none and are not checked.
 */
final class LayerChecksums {
    private LayerChecksums() {}

    /** The names of the tensors of {@code layer}, in checksum order. */
    static List<String> tensorNames(LayerPlan layer, boolean symmetric) {
        List<String> names = new ArrayList<>();
        for (int bits : layer.weightBits()) {
            names.add(QuantizedTensors.q(layer.name(), bits));
            names.add(QuantizedTensors.scale(layer.name(), bits));
            if (!symmetric) names.add(QuantizedTensors.zero(layer.name(), bits));
        }
        if (layer.smooth() != null) names.add(QuantizedTensors.smooth(layer.name()));
        if (layer.ranges() != null) names.add(QuantizedTensors.actRange(layer.name()));
        if (layer.hasLowRank()) {
            names.add(QuantizedTensors.lowRankUp(layer.name()));
            names.add(QuantizedTensors.lowRankDown(layer.name()));
        }
        return names;
    }

    /** The checksum of {@code layer}'s tensors as {@code tensors} gives them. */
    static String of(LayerPlan layer, boolean symmetric, Function<String, Tensor> tensors) {
        CRC32C crc = new CRC32C();
        for (String name : tensorNames(layer, symmetric)) crc.update(tensors.apply(name).data().asByteBuffer());
        return HexFormat.of().toHexDigits((int) crc.getValue());
    }

    /** Throws naming the layer and its tensors when they do not match {@code expected} (null: nothing to check). */
    static void verify(TensorFile file, LayerPlan layer, boolean symmetric, String expected) {
        if (expected == null) return;
        String actual = of(layer, symmetric, file::get);
        if (!actual.equals(expected)) {
            throw new CheckpointException(file.path(), "the stored tensors of quantized layer " + layer.name() + " ("
                    + String.join(", ", tensorNames(layer, symmetric)) + ") do not match the checksum written with them (crc32c "
                    + actual + ", written " + expected + "): the file was changed after quantization; quantize the model again");
        }
    }
}
