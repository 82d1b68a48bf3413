package dev.viditq.core.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupStridesTest {
    @Test
    void consecutiveGroupsStartAGroupsRowsLater() {
        assertEquals(new GroupStrides(5L * 30, 7L * 40, 7L * 50, 5L * 60), GroupStrides.consecutive(5, 7, 30, 40, 50, 60));
    }

    @Test
    void anOperandSpansToItsLastGroupsLastRowsHeads() {
        // 4 groups one row (96 floats) apart, 16 rows of 4 groups' rows each: the last group's last row, 2 heads of 8
        assertEquals(3L * 96 + 15L * 4 * 96 + 16, GroupStrides.extent(4, 96, 16, 4 * 96, 2, 8, "q"));
        assertEquals(0, GroupStrides.extent(0, 96, 16, 96, 2, 8, "q"), "no groups span nothing");
    }

    @Test
    void refusesNegativeStridesOverlappingRowsAndOverflow() {
        assertThrows(IllegalArgumentException.class, () -> new GroupStrides(1, -1, 1, 1));
        IllegalArgumentException narrow = assertThrows(IllegalArgumentException.class,
                () -> GroupStrides.extent(2, 96, 4, 15, 2, 8, "k"));
        assertTrue(narrow.getMessage().contains("row stride 15"), narrow.getMessage());
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> GroupStrides.extent(Integer.MAX_VALUE, Long.MAX_VALUE / 2, 4, 16, 2, 8, "v"));
        assertTrue(huge.getMessage().contains("overflow"), huge.getMessage());
    }
}
