package io.patu.policy.internal;

import java.util.List;

/**
 * The answer to "may SRC open a connection to DST on PORT/PROTO": both sides must allow, the source's
 * egress and the destination's ingress.
 */
record Verdict(boolean allowed, Side egress, Side ingress) {
    /**
     * One side's decision.
     *
     * @param pod        the local pod deciding ({@code ns/name}), or null when the address is not a local pod
     *                   (then this side does not restrict)
     * @param isolatedBy policies that select the pod for this direction; empty = not isolated, all allowed
     * @param allowedBy  {@code ns/policy rule N} entries that match the traffic
     */
    record Side(String pod, List<String> isolatedBy, List<String> allowedBy) {
        Side {
            isolatedBy = List.copyOf(isolatedBy);
            allowedBy = List.copyOf(allowedBy);
        }

        boolean allows() {
            return isolatedBy.isEmpty() || !allowedBy.isEmpty();
        }

        String describe(String direction) {
            if (pod == null) {
                return direction + ": not a local pod, not restricted here";
            }
            if (isolatedBy.isEmpty()) {
                return direction + " of " + pod + ": not isolated (no policy with " + direction + " selects it), allowed";
            }
            if (allowedBy.isEmpty()) {
                return direction + " of " + pod + ": isolated by " + String.join(", ", isolatedBy) + "; no rule allows it, denied";
            }
            return direction + " of " + pod + ": allowed by " + String.join(", ", allowedBy);
        }
    }

    String describe() {
        return (allowed ? "allow" : "deny") + "\n  " + egress.describe("Egress") + "\n  " + ingress.describe("Ingress");
    }
}
