package dev.viditq.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Small hostile checkpoints that would hang or exhaust a naive loader end in a named {@link CheckpointException}
 * within seconds: memo-shared dicts (10^10 paths from 1.6 KB), copies of a shared list (10^10 elements), deep
 * nesting, inflation bombs, absurd key paths.
 */
class HostileCheckpointTest {
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private String refused(byte[] pickle, boolean deflate) throws IOException {
        Path file = dir.resolve("hostile.pth");
        HostileCheckpoints.zipWithPickle(file, pickle, deflate);
        return refused(file);
    }

    private static String refused(Path file) {
        CheckpointException e = assertTimeoutPreemptively(BOUND, () -> assertThrows(CheckpointException.class, () -> {
            try (TensorFile f = Checkpoints.open(file)) {
                fail("opened " + f.names().size() + " tensors");
            }
        }));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void dictsSharedThroughTheMemoAreWalkedOnce() throws IOException {
        byte[] pickle = HostileCheckpoints.sharedDictLevels(10, 10);
        assertTrue(pickle.length < 2000, pickle.length + " bytes");
        String m = refused(pickle, false);
        assertTrue(m.contains("holds one dict under two keys, 'k0.k0.k0.k0.k0.k0.k0.k0.k0' and 'k0.k0.k0.k0.k0.k0.k0.k0.k1'"), m);
    }

    @Test
    void aListCopiedOverAndOverRunsOutOfBudget() throws IOException {
        byte[] pickle = HostileCheckpoints.copiedSharedList(20_000, 100_000); // 2·10^9 elements from 1.3 MB
        String m = refused(pickle, true);
        assertTrue(m.contains("malformed pickle archive/data.pkl at byte") && m.contains("structures shared through the memo"), m);
    }

    @Test
    void deepNestingIsBoundedWithoutRecursion() throws IOException {
        assertTrue(refused(HostileCheckpoints.nestedDicts(200_000), true).contains("nests dicts more than 16 deep"));
        String lists = refused(HostileCheckpoints.nestedLists(1_000_000), true);
        assertTrue(lists.contains("holds no tensors in the top-level dict; its keys are [a]"), lists);
    }

    @Test
    void aKeyRepeatedAtEveryLevelCannotBuildHugeNames() throws IOException {
        String m = refused(HostileCheckpoints.longKeyPath(100_000, 16), true);
        assertTrue(m.contains("key path longer than 4096 characters"), m);
    }

    @Test
    void aPickleInflatingTo1_6GBIsRefusedBeforeInflating() throws IOException {
        Path bomb = dir.resolve("bomb.pth");
        HostileCheckpoints.inflationBomb(bomb, 1600L << 20);
        assertTrue(Files.size(bomb) < 3 << 20, Files.size(bomb) + " bytes");
        String m = refused(bomb);
        assertTrue(m.contains("zip entry archive/data.pkl declares 1.6 GiB of pickle") && m.contains("inflation bomb"), m);
    }

    @Test
    void realPicklesCostAFewUnitsPerByte() throws IOException {
        // torch's own pickles must stay far below the budget of 64 units a byte that the hostile ones above exceed
        for (String name : new String[]{"dtypes.pth", "protocol4.pth", "nested_ema.pth", "wrapped_state_dict.pth"}) {
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(PthFileTest.fixture(name).toFile())) {
                java.util.zip.ZipEntry e = zip.stream().filter(z -> z.getName().endsWith("/data.pkl")).findFirst().orElseThrow();
                byte[] pickle = zip.getInputStream(e).readAllBytes();
                Unpickler u = new Unpickler(Path.of(name), "data.pkl", java.lang.foreign.MemorySegment.ofArray(pickle), 0,
                        new TorchPickle(Path.of(name)));
                u.load();
                double perByte = (double) u.unitsSpent() / pickle.length;
                assertTrue(perByte < Unpickler.UNITS_PER_BYTE / 8.0, name + ": " + perByte + " units a byte");
            }
        }
    }
}
