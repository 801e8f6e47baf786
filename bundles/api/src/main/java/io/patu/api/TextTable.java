package io.patu.api;

import java.util.List;
import java.util.stream.Stream;

/**
 * A table for operators' eyes, as the Gogo commands of every bundle print it: a header and rows of cells,
 * columns left-aligned and separated by two spaces, no trailing blanks.
 *
 * @param header column titles
 * @param rows   one list of cells a row, as many as the header has
 */
public record TextTable(List<String> header, List<List<String>> rows) {
    private static final String GAP = "  ";

    public TextTable {
        header = List.copyOf(header);
        rows = rows.stream().map(List::copyOf).toList();
        for (List<String> row : rows) {
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("row " + row + " has " + row.size() + " cells, the header " + header.size());
            }
        }
    }

    /** The header line, then one line a row, each ending with a newline. */
    public String render() {
        int[] widths = new int[header.size()];
        for (List<String> line : lines()) {
            for (int column = 0; column < widths.length; column++) {
                widths[column] = Math.max(widths[column], line.get(column).length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> line : lines()) {
            StringBuilder text = new StringBuilder();
            for (int column = 0; column < widths.length; column++) {
                String cell = line.get(column);
                text.append(cell).append(" ".repeat(widths[column] - cell.length())).append(GAP);
            }
            out.append(text.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    private List<List<String>> lines() {
        return Stream.concat(Stream.of(header), rows.stream()).toList();
    }
}
