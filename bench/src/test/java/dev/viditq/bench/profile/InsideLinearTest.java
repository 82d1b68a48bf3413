package dev.viditq.bench.profile;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A kernel a timed Linear calls itself (an MLP's GELU pass) counts in that Linear's time, and only there. */
class InsideLinearTest {
    private static final int GELU = TimingKernels.Other.GELU.ordinal();

    @Test
    void aGeluPassInsideATimedLinearIsNotCountedAmongTheOtherKernels() {
        Kernels before = KernelBackend.get();
        TimingKernels timing = new TimingKernels(before);
        KernelBackend.set(timing);
        try {
            Linear linear = new Linear("fc1", Tensor.zeros(64, 32), null);
            LongAdder nanos = new LongAdder(), flops = new LongAdder();
            TimingExecutor timed = new TimingExecutor(linear.executor(), nanos, flops, new GemmShapes());
            Tensor x = Tensor.zeros(16, 32), out = Tensor.zeros(16, 64);

            timed.forwardActivated(linear, x, out, Activation.GELU_TANH);
            assertTrue(nanos.sum() > 0, "the Linear's time");
            assertEquals(2L * 16 * 32 * 64, flops.sum());
            assertEquals(0, timing.otherNanosByKind()[GELU], "the GELU pass counted again among the other kernels");
            assertFalse(InsideLinear.active(), "left the Linear");

            timing.geluTanh(out.data(), out.numel());   // outside any Linear it counts
            assertTrue(timing.otherNanosByKind()[GELU] > 0);
        } finally {
            KernelBackend.set(before);
        }
    }
}
