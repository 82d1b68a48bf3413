package dev.viditq.core.kernels;

import dev.viditq.core.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import static dev.viditq.core.kernels.KernelTestSupport.random;
import static dev.viditq.core.kernels.KernelTestSupport.zeros;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The float kernels give the same bits whichever JIT tier runs them. They once did not: reduceLanes(ADD) summed
 * lanes in another order in the interpreter than in C2-compiled code, so a calibration, a norm or a whole sampled
 * image differed in the last bits from run to run. Here the kernels that reduce across lanes run once in this JVM
 * after a warm-up (compiled) and once in a child JVM with -Xint (interpreted: the Vector API's Java fallbacks), and
 * the outputs must be identical.
 */
class RepeatabilityTest {
    @Test
    void sumLanesAssociatesInTheDocumentedTree() {
        SplittableRandom r = new SplittableRandom(7);
        int lanes = MicroKernel.L;
        for (int trial = 0; trial < 100; trial++) {
            float[] a = new float[lanes];
            for (int i = 0; i < lanes; i++) a[i] = (float) (r.nextDouble(-1, 1) * Math.pow(10, r.nextInt(-3, 4)));
            float[] t = a.clone();
            for (int w = lanes / 2; w >= 1; w /= 2) {
                float[] next = new float[lanes];
                for (int j = 0; j < lanes; j++) next[j] = t[j] + t[(j + w) % lanes];
                t = next;
            }
            float got = VectorMath.sumLanes(FloatVector.fromArray(MicroKernel.S, a, 0));
            assertEquals(Float.floatToRawIntBits(t[0]), Float.floatToRawIntBits(got), "trial " + trial);
        }
    }

    @Test
    void compiledAndInterpretedKernelsAgreeBitwise() throws Exception {
        String compiled = "";
        for (int i = 0; i < 3000; i++) compiled = Probe.outputs(); // warm-up: C2 compiles the kernels
        String[] c = compiled.split(" "), i = interpretedOutputs().split(" ");
        assertEquals(Probe.KERNELS.size(), i.length, "the child printed " + i.length + " outputs");
        for (int n = 0; n < c.length; n++) {
            int at = 0;
            while (at < c[n].length() && c[n].charAt(at) == i[n].charAt(at)) at++;
            assertEquals(c[n].length(), at, Probe.KERNELS.get(n) + ": compiled and interpreted outputs differ from byte " + at / 2);
        }
    }

    private static String interpretedOutputs() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xint", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dviditq.vector.bits=" + VectorWidth.BITS, // the same lanes, hence the same reduction tree
                "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertEquals(0, p.waitFor(), "the -Xint child failed");
        return out.toString(StandardCharsets.UTF_8).strip();
    }

    /** The kernels that reduce across lanes, on fixed inputs; their outputs as hex. Also the child's main. */
    static final class Probe {
        static final List<String> KERNELS = List.of("layerNorm", "rmsNorm", "softmax", "gemm with fewer rows than the tile");

        public static void main(String[] args) {
            System.out.println(outputs());
        }

        static String outputs() {
            JavaKernels k = new JavaKernels();
            SplittableRandom r = new SplittableRandom(42);
            int rows = 3, dim = 67;
            long n = (long) rows * dim;
            MemorySegment x = random(r, n, -3f, 5f), gamma = random(r, dim), beta = random(r, dim);
            MemorySegment ln = zeros(n), rms = zeros(n), soft = KernelTestSupport.copy(x), small = zeros((long) rows * 5);
            k.layerNorm(x, rows, dim, gamma, beta, 1e-6f, ln);
            k.rmsNorm(x, rows, dim, gamma, 1e-6f, rms);
            k.softmax(soft, rows, dim);
            Tensor w = Tensor.of(KernelTestSupport.floats(random(r, 5L * dim), 5L * dim), 5, dim);
            k.gemm(x, rows, dim, w, null, small); // fewer rows than the register tile: the dot-product path
            HexFormat hex = HexFormat.of();
            return String.join(" ", hex.formatHex(bytes(ln)), hex.formatHex(bytes(rms)), hex.formatHex(bytes(soft)),
                    hex.formatHex(bytes(small)));
        }

        private static byte[] bytes(MemorySegment s) {
            return s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }
}
