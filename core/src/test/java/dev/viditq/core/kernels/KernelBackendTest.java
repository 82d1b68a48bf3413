package dev.viditq.core.kernels;

import dev.viditq.core.kernels.quant.NativeMatrix;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.viditq.core.kernels.KernelTestSupport.assertClose;
import static dev.viditq.core.kernels.KernelTestSupport.random;
import static dev.viditq.core.kernels.KernelTestSupport.zeros;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which float kernels each precision gives, and the scoped FP32 that golden parity uses. */
class KernelBackendTest {
    @Test
    void fp32IsNeverBf16() {
        Kernels k = KernelBackend.withPrecision(Precision.FP32, KernelBackend::get);
        assertFalse(k instanceof Bf16Kernels, k.name());
    }

    @Test
    void bf16UsesTheBestUnitWhereThereIsOne() {
        var unit = NativeMatrix.get().flatMap(NativeMatrix::floatUnit);
        Assumptions.assumeTrue(unit.isPresent(), "skipped: this CPU has neither AMX-BF16 nor AVX512-BF16");
        Kernels k = KernelBackend.withPrecision(Precision.BF16, KernelBackend::get);
        assertEquals(unit.get(), assertInstanceOf(Bf16Kernels.class, k, k.name()).unit());
    }

    /**
     * Attention follows the precision in force: FP32 runs the FP32 flash attention bit for bit, BF16 the unit's
     * (q, k, v and the weights rounded to bf16: close to FP32, but not equal).
     */
    @Test
    void attentionFollowsThePrecision() {
        var unit = NativeMatrix.get().flatMap(NativeMatrix::floatUnit);
        Assumptions.assumeTrue(unit.isPresent(), "skipped: this CPU has neither AMX-BF16 nor AVX512-BF16");
        int lq = 40, lk = 50, heads = 2, d = 64, width = heads * d;
        SplittableRandom r = new SplittableRandom(4);
        MemorySegment q = random(r, (long) lq * width), k = random(r, (long) lk * width), v = random(r, (long) lk * width);
        MemorySegment java = zeros((long) lq * width), fp32 = zeros((long) lq * width), bf16 = zeros((long) lq * width);
        new JavaKernels().attention(q, width, k, width, v, width, java, width, lq, lk, heads, d, 0.125f, AttentionBias.NONE);
        KernelBackend.withPrecision(Precision.FP32, KernelBackend::get)
                .attention(q, width, k, width, v, width, fp32, width, lq, lk, heads, d, 0.125f, AttentionBias.NONE);
        KernelBackend.withPrecision(Precision.BF16, KernelBackend::get)
                .attention(q, width, k, width, v, width, bf16, width, lq, lk, heads, d, 0.125f, AttentionBias.NONE);
        assertClose(java, fp32, (long) lq * width, 0, "fp32 precision: the FP32 attention");
        assertClose(java, bf16, (long) lq * width, 2e-2, "bf16 precision: near the FP32 attention");
        assertTrue(java.mismatch(bf16) >= 0, "bf16 precision: not the FP32 attention");
    }

    /** auto: BF16 on AMX, and on AVX512-BF16 only where it beats FP32 (AMD); FP32 otherwise. */
    @Test
    void autoUsesBf16OnlyWhereItIsFaster() {
        var engines = NativeMatrix.get();
        Assumptions.assumeTrue(engines.isPresent(), "skipped: native library unavailable");
        Kernels k = KernelBackend.withPrecision(Precision.AUTO, KernelBackend::get);
        var faster = engines.get().fasterFloatUnit();
        if (faster.isPresent()) assertEquals(faster.get(), assertInstanceOf(Bf16Kernels.class, k, k.name()).unit());
        else assertFalse(k instanceof Bf16Kernels, k.name());
        if (engines.get().has(NativeMatrix.Unit.AVX512_BF16) && !engines.get().has(NativeMatrix.Unit.AMX)) {
            assertEquals(engines.get().cpuVendor().equals("AuthenticAMD"), faster.isPresent(), engines.get().cpuVendor());
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
