package io.patu.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class TextTableTest {
    @Test
    void columnsAreAsWideAsTheirWidestCellWithNoTrailingBlanks() {
        TextTable table = new TextTable(List.of("NAME", "STATE"),
                List.of(List.of("sockmap", "active"), List.of("ipam", "disabled")));
        assertEquals("""
                NAME     STATE
                sockmap  active
                ipam     disabled
                """, table.render());
    }

    @Test
    void noRowsRendersTheHeader() {
        assertEquals("A  B\n", new TextTable(List.of("A", "B"), List.of()).render());
    }

    @Test
    void aRowOfTheWrongWidthIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new TextTable(List.of("A", "B"), List.of(List.of("x"))));
    }
}
