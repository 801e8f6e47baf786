package io.patu.lifecycle.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PodIdentity;

/**
 * {@code CNI_ARGS} read as the CNI conventions and the reference plugins' {@code types.LoadArgs} read it:
 * {@code K=V} pairs separated by {@code ;}; each pair has exactly one {@code =} (an empty value is allowed, an
 * empty pair is not); a key this plugin does not know is an error unless {@code IgnoreUnknown} is
 * {@code 1}/{@code true} (case-insensitive; {@code 0}/{@code false} also parse), wherever it stands. Keys are
 * case-sensitive. Refused input changes nothing: the request is rejected before any state is touched.
 *
 * <p>What runtimes send (see README "Network policy"): kubelet, containerd and CRI-O
 * {@code IgnoreUnknown=1;K8S_POD_NAMESPACE=..;K8S_POD_NAME=..;K8S_POD_INFRA_CONTAINER_ID=..;K8S_POD_UID=..};
 * podman 4.3 {@code IgnoreUnknown=1;K8S_POD_NAME=<container name>}, plus {@code IP=<address>} for
 * {@code --network NET:ip=}.
 */
record CniArgs(Map<String, String> pairs) {
    static final CniArgs NONE = new CniArgs(Map.of());
    static final String IGNORE_UNKNOWN = "IgnoreUnknown";
    static final String NAMESPACE = "K8S_POD_NAMESPACE";
    static final String NAME = "K8S_POD_NAME";
    static final String UID = "K8S_POD_UID";
    static final String INFRA_CONTAINER_ID = "K8S_POD_INFRA_CONTAINER_ID";
    private static final Set<String> KNOWN = Set.of(IGNORE_UNKNOWN, NAMESPACE, NAME, UID, INFRA_CONTAINER_ID);
    /** Kubernetes names are at most 253 characters, uids 36; generous, but bounded. */
    private static final int MAX_VALUE = 1024;
    private static final int MAX_LENGTH = 16 << 10;

    CniArgs {
        pairs = Map.copyOf(pairs);
    }

    static CniArgs parse(String text) {
        if (text == null || text.isEmpty()) {
            return NONE;
        }
        if (text.length() > MAX_LENGTH) {
            throw invalid("CNI_ARGS is longer than " + MAX_LENGTH + " characters");
        }
        Map<String, String> pairs = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        boolean ignoreUnknown = false;
        for (String pair : text.split(";", -1)) {
            int equals = pair.indexOf('=');
            if (equals < 0 || pair.indexOf('=', equals + 1) >= 0) {
                throw invalid("CNI_ARGS: invalid pair '" + CniRequest.printable(pair)
                        + "': each pair is KEY=VALUE with exactly one '=', pairs separated by ';'");
            }
            String key = pair.substring(0, equals);
            String value = pair.substring(equals + 1);
            if (!KNOWN.contains(key)) {
                unknown.add(pair);
                continue;
            }
            if (value.length() > MAX_VALUE) {
                throw invalid("CNI_ARGS: the value of " + key + " is longer than " + MAX_VALUE + " characters");
            }
            if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw invalid("CNI_ARGS: the value of " + key + " '" + CniRequest.printable(value) + "' holds control characters");
            }
            if (key.equals(IGNORE_UNKNOWN)) {
                ignoreUnknown = switch (value.toLowerCase(Locale.ROOT)) {
                    case "1", "true" -> true;
                    case "0", "false" -> false;
                    default -> throw invalid("CNI_ARGS: IgnoreUnknown='" + CniRequest.printable(value)
                            + "' is not a boolean (1, true, 0 or false)");
                };
            }
            pairs.put(key, value);
        }
        if (!unknown.isEmpty() && !ignoreUnknown) {
            throw invalid("CNI_ARGS: unknown args " + unknown.stream().map(CniRequest::printable).toList()
                    + "; this plugin knows " + KNOWN.stream().sorted().toList() + " (set IgnoreUnknown=1 to ignore others)");
        }
        return new CniArgs(pairs);
    }

    /** The pod's namespace, name, uid and infra container as the runtime gave them. */
    PodIdentity identity() {
        return new PodIdentity(pairs.getOrDefault(NAMESPACE, ""), pairs.getOrDefault(NAME, ""),
                pairs.getOrDefault(UID, ""), pairs.getOrDefault(INFRA_CONTAINER_ID, ""));
    }

    private static PatuException invalid(String message) {
        return new PatuException(CniError.INVALID_ENVIRONMENT, message);
    }
}
