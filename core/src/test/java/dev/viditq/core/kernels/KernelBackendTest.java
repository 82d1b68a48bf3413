package dev.viditq.core.kernels;

import dev.viditq.core.kernels.quant.NativeMatrix;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which float kernels each precision gives, and the scoped FP32 that golden parity uses. */
class KernelBackendTest {
    @Test
    void fp32IsNeverBf16() {
        Kernels k = KernelBackend.withPrecision(Precision.FP32, KernelBackend::get);
        assertFalse(k instanceof Bf16Kernels, k.name());
    }

    @Test
    void autoAndBf16UseTheBestUnitWhereThereIsOne() {
        var unit = NativeMatrix.get().flatMap(NativeMatrix::floatUnit);
        Assumptions.assumeTrue(unit.isPresent(), "skipped: this CPU has neither AMX-BF16 nor AVX512-BF16");
        for (Precision p : new Precision[]{Precision.AUTO, Precision.BF16}) {
            Kernels k = KernelBackend.withPrecision(p, KernelBackend::get);
            assertEquals(unit.get(), assertInstanceOf(Bf16Kernels.class, k, p + ": " + k.name()).unit());
        }
    }

    @Test
    void withPrecisionRestoresWhatRanBefore() {
        Precision asked = KernelBackend.precision();
        Kernels before = KernelBackend.get();
        KernelBackend.withPrecision(asked == Precision.FP32 ? Precision.AUTO : Precision.FP32, KernelBackend::get);
        assertSame(before, KernelBackend.get());
        assertEquals(asked, KernelBackend.precision());
    }

    @Test
    void unknownPrecisionIsAClearError() {
        assertEquals("unknown precision 'fp16' (fp32, bf16 or auto)",
                assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16")).getMessage());
    }
}
