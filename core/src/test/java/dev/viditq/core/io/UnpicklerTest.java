package dev.viditq.core.io;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The pickle subset beyond what the torch fixtures use, on pickles Python itself wrote. */
class UnpicklerTest {
    private static final Path FILE = Path.of("test.pkl");

    /**
     * pickle.dumps({'f': 1.5, 'big': 2**70, 'neg': -300, 'b': b'xy', 't': (1, 2, 3), 'l': [None, True, False],
     * 's': 'ünï', 'k': {(1, 2): 'tuplekey'}}, protocol=P) for P = 2 and 5 (Python 3.11).
     */
    private static final String PROTOCOL_2 = "80027d7100285801000000667101473ff8000000000000580300000062696771028a09000000"
            + "00000000004058030000006e656771034ad4feffff5801000000627104635f636f646563730a656e636f64650a71055802000000"
            + "7879710658060000006c6174696e317107867108527109580100000074710a4b014b024b0387710b58010000006c710c5d710d28"
            + "4e888965580100000073710e5805000000c3bc6ec3af710f58010000006b71107d71114b014b0286711258080000007475706c65"
            + "6b6579711373752e";
    private static final String PROTOCOL_5 = "80059572000000000000007d94288c016694473ff80000000000008c03626967948a09000000"
            + "0000000000408c036e6567944ad4feffff8c01629443027879948c0174944b014b024b0387948c016c945d94284e8889658c0173"
            + "948c05c3bc6ec3af948c016b947d944b014b0286948c087475706c656b65799473752e";

    static Object load(String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex);
        return new Unpickler(FILE, "test.pkl", MemorySegment.ofArray(bytes), 0, new TorchPickle(FILE)).load();
    }

    @ParameterizedTest
    @ValueSource(strings = {PROTOCOL_2, PROTOCOL_5})
    void readsPythonValues(String hex) {
        Map<?, ?> m = assertInstanceOf(Map.class, load(hex));
        assertEquals(1.5, m.get("f"));
        assertEquals(BigInteger.TWO.pow(70), m.get("big"));
        assertEquals(-300L, m.get("neg"));
        assertArrayEquals(new byte[]{'x', 'y'}, (byte[]) m.get("b"));
        assertEquals(List.of(1L, 2L, 3L), m.get("t"));
        assertEquals(java.util.Arrays.asList(null, true, false), m.get("l"));
        assertEquals("ünï", m.get("s"));
        Map<?, ?> k = assertInstanceOf(Map.class, m.get("k"));
        Map.Entry<?, ?> e = k.entrySet().iterator().next();
        assertEquals(List.of(1L, 2L), assertInstanceOf(Unpickler.IdentityKey.class, e.getKey()).value());
        assertEquals("tuplekey", e.getValue());
    }

    void assertMalformed(String hex, String fragment) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(hex));
        assertTrue(e.getMessage().startsWith(FILE + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), () -> "'" + fragment + "' not in " + e.getMessage());
    }

    @Test
    void corruptPicklesSayWhereAndWhat() {
        assertMalformed("8002", "pickle ends early");
        assertMalformed("80022e", "at byte 2: stack underflow");
        assertMalformed("8002680a2e", "memo entry 10 was never stored");
        assertMalformed("80027d4b01732e", "stack underflow"); // SETITEM with a key but no value
        assertMalformed("80024b01652e", "no MARK");
        assertMalformed("8002ff", "unsupported pickle opcode 0xff");
        assertMalformed("8006", "pickle protocol 6 is newer than 5");
        assertMalformed("80025dff", "at byte 3: unsupported pickle opcode 0xff"); // position reported
        assertMalformed("800258ffffff7f", "pickle ends early: 2147483647 more bytes"); // huge BINUNICODE, no allocation
        assertMalformed("80024b014b0252", "call arguments are Long"); // REDUCE on an int
    }

    @Test
    void aListContainingItselfUsedAsAKeyDoesNotOverflowTheStack() {
        // } ] q0 ( h0 e N s  ->  l = [l]; {l: None}
        Map<?, ?> m = assertInstanceOf(Map.class, load("80027d5d7100286800654e732e"));
        assertEquals(1, m.size());
    }

    @Test
    void globalsOutsideTheAllowListAreRefusedByName() {
        // STACK_GLOBAL 'builtins' 'eval'
        assertMalformedGlobal("80048c086275696c74696e73948c046576616c94932e", "pickle global 'builtins.eval' is not allowed");
        // GLOBAL '__main__\nNet\n'
        assertMalformedGlobal("8002635f5f6d61696e5f5f0a4e65740a2e", "save model.state_dict()");
        // GLOBAL 'torch\nfloat8_e4m3fn\n': a dtype we cannot hold is named as such
        assertMalformedGlobal("800263746f7263680a666c6f6174385f65346d33666e0a2e", "dtype torch.float8_e4m3fn, which is not supported");
    }

    void assertMalformedGlobal(String hex, String fragment) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> load(hex));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
