package io.patu.metrics.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.patu.api.ReadinessReport;
import io.patu.api.json.JsonTrees;

/** The body of {@code /readyz}: the readiness report as JSON, for scripts and for a person. */
final class ReadinessJson {
    private ReadinessJson() {
    }

    static byte[] write(ReadinessReport report) {
        ObjectNode root = JsonTrees.object();
        root.put("ready", report.ready());
        ArrayNode entries = root.putArray("checks");
        for (ReadinessReport.Entry entry : report.entries()) {
            ObjectNode node = entries.addObject();
            node.put("name", entry.name());
            node.put("feature", entry.feature());
            node.put("state", entry.state());
            node.put("required", entry.required());
            node.put("ok", entry.problems().isEmpty());
            ArrayNode problems = node.putArray("problems");
            entry.problems().forEach(problems::add);
        }
        return JsonTrees.write(root, true);
    }
}
