package dev.viditq.bench.onnx;

import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GemmPeerTest {
    @Test
    void bothSidesComputeTheSameProductOnSmallShapes() {
        List<GemmPeer.Row> rows = GemmPeer.run(9, 256, new int[]{40}, 1, 1, new PrintStream(OutputStream.nullOutputStream()));
        assertEquals(List.of("fp32", "bf16-weights", "w8a8", "w4a8-g128"), rows.stream().map(GemmPeer.Row::variant).toList());
        for (GemmPeer.Row r : rows) {
            assertTrue(r.oursSeconds() > 0, r.variant());
            if (r.variant().equals("bf16-weights")) {
                assertTrue(Double.isNaN(r.ortSeconds()), "ONNX Runtime has no BF16 CPU MatMul: no peer");
                continue;
            }
            assertTrue(r.ortSeconds() > 0, r.variant());
            // same weights: float agrees to rounding; the integer ones differ only by how activations are quantized
            double bound = r.variant().equals("fp32") ? 1e-5 : 0.05;
            assertTrue(r.relativeDifference() < bound, r.variant() + ": relative difference " + r.relativeDifference());
        }
    }

    @Test
    void symmetricQuantizationRoundTripsWithinHalfAStep() {
        float[] w = {0.5f, -1f, 0.25f, 0.1f, 2f, -2f, 0f, 1f};
        byte[] q = new byte[w.length];
        float[] s = GemmPeer.quantizeSymmetric(w, 2, 4, 2, 7, q);
        assertEquals(4, s.length);
        for (int i = 0; i < w.length; i++) {
            float scale = s[(i / 4) * 2 + (i % 4) / 2];
            assertTrue(Math.abs(q[i] * scale - w[i]) <= scale / 2 + 1e-7, "element " + i);
            assertTrue(q[i] >= -7 && q[i] <= 7);
        }
    }
}
