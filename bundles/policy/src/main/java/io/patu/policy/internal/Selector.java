package io.patu.policy.internal;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Kubernetes label selector: every {@code matchLabels} pair and every expression must hold. An empty
 * selector ({@code {}}) selects everything; an absent one is represented by null where it means something
 * else (a peer without podSelector).
 */
record Selector(Map<String, String> matchLabels, List<Requirement> expressions) {
    static final Selector EVERYTHING = new Selector(Map.of(), List.of());

    Selector {
        matchLabels = Map.copyOf(matchLabels);
        expressions = List.copyOf(expressions);
    }

    enum Operator { In, NotIn, Exists, DoesNotExist }

    /** One {@code matchExpressions} entry. */
    record Requirement(String key, Operator operator, Set<String> values) {
        Requirement {
            values = Set.copyOf(values);
        }

        boolean matches(Map<String, String> labels) {
            String value = labels.get(key);
            return switch (operator) {
                case In -> value != null && values.contains(value);
                case NotIn -> value == null || !values.contains(value);
                case Exists -> value != null;
                case DoesNotExist -> value == null;
            };
        }

        @Override
        public String toString() {
            return switch (operator) {
                case In, NotIn -> key + " " + operator + " (" + String.join(",", values.stream().sorted().toList()) + ")";
                case Exists -> key;
                case DoesNotExist -> "!" + key;
            };
        }
    }

    boolean matches(Map<String, String> labels) {
        for (Map.Entry<String, String> label : matchLabels.entrySet()) {
            if (!label.getValue().equals(labels.get(label.getKey()))) {
                return false;
            }
        }
        for (Requirement requirement : expressions) {
            if (!requirement.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    boolean isEmpty() {
        return matchLabels.isEmpty() && expressions.isEmpty();
    }

    /** As kubectl describes a selector: {@code a=b,c in (d,e)}, or {@code <all>}. */
    @Override
    public String toString() {
        if (isEmpty()) {
            return "<all>";
        }
        StringBuilder out = new StringBuilder();
        matchLabels.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.append(out.isEmpty() ? "" : ",").append(e.getKey()).append('=').append(e.getValue()));
        expressions.forEach(r -> out.append(out.isEmpty() ? "" : ",").append(r));
        return out.toString();
    }
}
