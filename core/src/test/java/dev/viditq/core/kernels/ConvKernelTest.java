package dev.viditq.core.kernels;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.viditq.core.kernels.KernelTestSupport.assertClose;
import static dev.viditq.core.kernels.KernelTestSupport.random;
import static dev.viditq.core.kernels.KernelTestSupport.unalignedWeight;
import static dev.viditq.core.kernels.KernelTestSupport.zeros;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link JavaKernels#conv2d} against {@link ScalarKernels#conv2d}. */
class ConvKernelTest {
    private static final ScalarKernels ORACLE = new ScalarKernels();
    private static final JavaKernels FAST = new JavaKernels();

    @ParameterizedTest(name = "cin={0} {1}×{2} cout={3} k={4} stride={5} pad={6} {7}")
    @CsvSource({
            // patch embeddings (k = stride), 3×3 same-padding, strided downsampling, 1×1, kernel = input
            "4, 8, 8, 17, 2, 2, 0, F32", "3, 13, 9, 50, 3, 3, 0, BF16", "5, 13, 13, 9, 3, 1, 1, F16",
            "3, 5, 7, 8, 3, 2, 1, F32", "17, 6, 6, 67, 1, 1, 0, BF16", "1, 5, 5, 3, 5, 1, 0, F32",
            "2, 20, 30, 5, 3, 1, 2, F16", "130, 4, 4, 3, 3, 1, 1, F32", "1, 1, 1, 1, 1, 1, 0, F32",
    })
    void matchesOracle(int cin, int h, int w, int cout, int k, int stride, int padding, DType dtype) {
        SplittableRandom r = new SplittableRandom(cin * 100L + h * 10L + cout);
        MemorySegment x = random(r, (long) cin * h * w);
        Tensor weight = unalignedWeight(r, dtype, cout, cin, k, k);
        MemorySegment bias = cout % 2 == 1 ? random(r, cout) : null;
        int oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1;
        long n = (long) cout * oh * ow;
        MemorySegment expected = zeros(n), actual = random(r, n, 5f, 6f);
        ORACLE.conv2d(x, cin, h, w, weight, bias, stride, padding, expected);
        FAST.conv2d(x, cin, h, w, weight, bias, stride, padding, actual);
        assertClose(expected, actual, n, 2e-5, "conv2d");
    }

    @Test
    void kernelLargerThanInputIsRefused() {
        SplittableRandom r = new SplittableRandom(1);
        Tensor weight = unalignedWeight(r, DType.F32, 2, 1, 5, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FAST.conv2d(random(r, 9), 1, 3, 3, weight, null, 1, 0, zeros(4)));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
    }
}
