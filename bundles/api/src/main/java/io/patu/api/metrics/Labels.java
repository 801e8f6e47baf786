package io.patu.api.metrics;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The labels of one sample, sorted by name so that equal label sets are equal and expositions are stable.
 * Names are lower-case identifiers not starting with {@code __} (Prometheus reserves those) and never
 * {@code le} (histogram buckets use it); values are any text.
 */
public record Labels(SortedMap<String, String> map) {
    public static final Labels NONE = new Labels(new TreeMap<>());
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");

    public Labels {
        TreeMap<String, String> copy = new TreeMap<>();
        map.forEach((name, value) -> {
            if (name == null || !NAME.matcher(name).matches() || name.equals("le")) {
                throw new IllegalArgumentException("label name '" + name + "' must be a lower-case identifier other than le");
            }
            if (value == null) {
                throw new IllegalArgumentException("label " + name + " has no value");
            }
            copy.put(name, value);
        });
        map = Collections.unmodifiableSortedMap(copy);
    }

    /** Labels from name, value pairs: {@code Labels.of("verb", "ADD", "result", "success")}. */
    public static Labels of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name, value pairs");
        }
        TreeMap<String, String> map = new TreeMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (map.put(namesAndValues[i], namesAndValues[i + 1]) != null) {
                throw new IllegalArgumentException("label " + namesAndValues[i] + " is given twice");
            }
        }
        return new Labels(map);
    }

    public static Labels of(Map<String, String> map) {
        return new Labels(new TreeMap<>(map));
    }

    @Override
    public String toString() {
        return map.toString();
    }
}
