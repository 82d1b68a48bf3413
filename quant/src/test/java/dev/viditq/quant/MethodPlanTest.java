package dev.viditq.quant;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethods;
import dev.viditq.quant.mp.SearchStorage;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A plan whose layers have different weight methods ({@code layer_methods}: grouping, GPTQ, low-rank rank, on the
 * golden PixArt with a calibration holding input Hessians): the sealed folder records each layer's method, and the
 * stored-bytes accounting the reports and the mixed-precision search use ({@link SearchStorage}, built on
 * {@code QuantizedWeight.storedBytes} and {@code LowRankBranch.storedBytes}) equals the bytes of the tensors the folder
 * holds, read with their dtypes from the file.
 */
class MethodPlanTest {
    /** Blocks 0: groups of 32 with GPTQ (act order); MLPs: a rank-4 branch and GPTQ; block 1's attention: per channel, W8
     * in the first two steps (two stored widths); groups of 64 on 96 inputs leave a partial group on cross-attention 1. */
    static final String MIXED = """
            preset: viditq-w4a8
            layer_methods:
              - {layers: 'blocks\\.0\\..*', granularity: group, group_size: 32, gptq: {act_order: true}}
              - {layers: '.*mlp.*', low_rank: 4, gptq: true}
              - {layers: 'blocks\\.1\\.cross_attn\\..*', group_size: 64}
            bit_map:
              - {layers: 'blocks\\.1\\.attn\\..*', weight_bits: 8, steps: [0, 2]}
            """;
    private static final Pattern STORED = Pattern.compile("(.*)\\.(w[2-8]\\.(q|scale|zero)|low_rank\\.l[12])");

    @TempDir
    static Path tmp;
    static Calibration calibration;

    @BeforeAll
    static void calibrate() {
        try (Denoiser pixart = GoldenModels.load(GoldenModels.pixart())) {
            calibration = GoldenModels.calibrate(pixart, GoldenModels.pixart(), 2, tmp.resolve("pixart.calib.safetensors"), true);
        }
    }

    @Test
    void foldersRecordEachLayersMethodAndStoreTheBytesTheSearchCounts() {
        QuantConfig cfg = QuantConfigReader.parse(MIXED, "mixed methods", null);
        Path out = tmp.resolve("mixed");
        long inMemory;
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            QuantizedModel q = Quantizer.quantize(model, QuantMethods.of(cfg.method()).plan(model, calibration, cfg), calibration);
            inMemory = q.storedWeightBytes();
            QuantizedCheckpoint.write(GoldenModels.pixart(), q, out, false);
        }
        QuantPlan plan = QuantizedCheckpoint.readPlan(out);
        LayerPlan b0 = plan.layers().get("blocks.0.attn.qkv"), mlp1 = plan.layers().get("blocks.1.mlp.fc1"),
                mlp0 = plan.layers().get("blocks.0.mlp.fc2"), attn1 = plan.layers().get("blocks.1.attn.proj"),
                cross1 = plan.layers().get("blocks.1.cross_attn.kv_linear");
        assertEquals(32, plan.weightsOf(b0).groupSize());
        assertTrue(b0.gptq().actOrder());
        assertEquals(0, b0.lowRank());
        assertEquals(4, mlp0.lowRank());
        assertEquals(32, plan.weightsOf(mlp0).groupSize(), "the later rule changes only the keys it gives");
        assertEquals(QuantConfig.WeightGranularity.CHANNEL, plan.weightsOf(mlp1).granularity());
        assertTrue(mlp1.gptq() != null && !mlp1.gptq().actOrder(), "gptq: true without top-level settings: the defaults");
        assertNull(attn1.gptq());
        assertEquals(java.util.Set.of(4, 8), attn1.weightBits());
        assertEquals(64, plan.weightsOf(cross1).groupSize());

        Map<String, Long> fileBytes = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (TensorFile f = Checkpoints.open(Checkpoints.findIn(ModelFolder.resolve(out).denoiser()))) {
            for (String name : f.names()) {
                var m = STORED.matcher(name);
                if (!m.matches()) continue;
                Tensor t = f.get(name);
                fileBytes.merge(m.group(1), t.dtype().byteSize(t.numel()), Long::sum);
            }
        }
        plan.layers().values().forEach(lp -> shapes.put(lp.name(), new int[]{lp.out(), lp.in()}));
        SearchStorage storage = new SearchStorage(shapes, plan.weights());
        long total = 0;
        for (LayerPlan lp : plan.layers().values()) {
            QuantConfig.WeightSpec spec = plan.weightsOf(lp);
            int group = spec.granularity() == QuantConfig.WeightGranularity.GROUP ? spec.groupSize() : 0;
            long counted = storage.branchBytes(lp.name(), lp.lowRank());
            for (int bits : lp.weightBits()) counted += storage.bytes(lp.name(), bits, bits <= 4 ? group : 0);
            assertEquals(fileBytes.get(lp.name()), counted, lp.name() + ": counted bytes against the folder's tensors");
            total += counted;
        }
        assertEquals(fileBytes.values().stream().mapToLong(Long::longValue).sum(), total);
        assertEquals(inMemory, total, "QuantizedModel.storedWeightBytes (quantize --json, sweep) counts the same");
    }
}
