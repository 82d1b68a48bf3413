package dev.viditq.quant.mp;

import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The candidate syntax of the mixed-precision sensitivity and search, and what each candidate resolves to. */
class MethodCandidateTest {
    private static final QuantConfig RTN = QuantConfigReader.preset("viditq-w4a8");
    private static final QuantConfig G128 = QuantConfigReader.preset("viditq-gptq-w4a8-g128");

    @Test
    void parsesBitsAndMethodTokensInAnyOrderToOneName() {
        MethodCandidate plain = MethodCandidate.parse("w4a8");
        assertEquals("W4A8", plain.name());
        assertFalse(plain.explicit());
        assertEquals(new MethodCandidate.Method(64, true, 0), MethodCandidate.parse("W4A8-gptq-g64").method());
        assertEquals("W4A8-gptq-g64", MethodCandidate.parse("W4A8-G64-GPTQ").name());
        assertEquals("W4A8-lr16-gptq", MethodCandidate.parse("W4A8-gptq-lr16").name());
        assertEquals("W4A8-lr8-gptq-g128", MethodCandidate.parse("w4a8-g128-lr8-gptq").name());
        assertEquals("W4A8-rtn", MethodCandidate.parse("W4A8-rtn").name());
        assertEquals(new MethodCandidate.Method(0, false, 0), MethodCandidate.parse("W4A8-rtn").method());
        assertEquals("W8A8-gptq", MethodCandidate.parse("W8A8-gptq").name());
        assertTrue(MethodCandidate.parse("float").isFloat());
    }

    @Test
    void refusesBadTokensNamingThem() {
        assertTrue(refusal("W4A8-gtpq").contains("unknown method token 'gtpq'"));
        assertTrue(refusal("W4A8-gptq-gptq").contains("'gptq' is given twice"));
        assertTrue(refusal("W4A8-g64-g128").contains("given twice"));
        assertTrue(refusal("W4A8-g60").contains("multiple of 8"));
        assertTrue(refusal("W8A8-g64").contains("at most 4 bits"));
        assertTrue(refusal("W4A8-lr0").contains("at least 1"));
        assertTrue(refusal("W4A8-rtn-gptq").contains("exclude each other"));
        assertTrue(refusal("W9A8").contains("2..8"));
        assertTrue(refusal("X4A8-gptq").contains("W4A8"));
        assertTrue(refusal("W4A8-").contains("unknown method token ''"));
        assertTrue(refusal("W4A8-lr99999999999").contains("out of range"));
    }

    @Test
    void bitsOnlyCandidatesTakeThePresetsMethodExplicitOnesTheirOwn() {
        MethodCandidate.WeightMethod w4 = MethodCandidate.parse("W4A8").resolve(G128);
        assertEquals(128, w4.groupSize());
        assertEquals(G128.gptq(), w4.gptq());
        assertEquals(0, MethodCandidate.parse("W8A8").resolve(G128).groupSize(), "groups exist only up to 4 bits");
        MethodCandidate.WeightMethod rtn = MethodCandidate.parse("W4A8-rtn").resolve(G128);
        assertEquals(new MethodCandidate.WeightMethod(0, null, 0), rtn, "an explicit candidate states its whole method");
        MethodCandidate.WeightMethod gptq = MethodCandidate.parse("W4A8-lr16-gptq").resolve(RTN);
        assertEquals(16, gptq.lowRank());
        assertEquals(QuantConfigReader.preset("viditq-gptq-w4a8").gptq(), gptq.gptq(), "-gptq on a round-to-nearest preset: the GPTQ presets' settings");
        assertTrue(gptq.gptq().actOrder());
        assertNull(MethodCandidate.parse("W4A8").resolve(RTN).gptq());
    }

    private static String refusal(String text) {
        return assertThrows(IllegalArgumentException.class, () -> MethodCandidate.parse(text)).getMessage();
    }
}
