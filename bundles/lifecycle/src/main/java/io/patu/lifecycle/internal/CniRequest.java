package io.patu.lifecycle.internal;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import io.patu.api.CniError;
import io.patu.api.PatuException;
import io.patu.api.PodId;
import io.patu.kernel.netlink.InterfaceNames;

/**
 * A validated CNI invocation: the environment the runtime set, checked against the rules of the CNI
 * spec before anything is touched, so bad input never changes state.
 */
record CniRequest(CniCommand command, String containerId, String ifName, Optional<Path> netns,
                  NetworkConfig config, CniArgs args) {

    /** Spec: alphanumeric first, then alphanumerics, underscore, dot or hyphen. */
    private static final Pattern CONTAINER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]{0,1023}");
    private static final int MAX_NETNS_PATH = 4096;

    PodId podId() {
        return new PodId(containerId, ifName);
    }

    static CniRequest from(WireRequest wire) {
        Map<String, String> env = wire.environment();
        String verb = env.get("CNI_COMMAND");
        if (verb == null || verb.isEmpty()) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, "CNI_COMMAND is not set");
        }
        CniCommand command;
        try {
            command = CniCommand.valueOf(verb);
        } catch (IllegalArgumentException e) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, "unknown CNI_COMMAND '" + printable(verb)
                    + "': this plugin implements ADD, DEL, CHECK, GC, STATUS and VERSION");
        }
        NetworkConfig config = NetworkConfig.parse(wire.stdin(), command == CniCommand.VERSION);
        if (command == CniCommand.VERSION) {
            return new CniRequest(command, "", "", Optional.empty(), config, CniArgs.NONE);
        }
        if (!config.atLeast(command.since())) {
            throw new PatuException(CniError.INCOMPATIBLE_VERSION, command + " is a CNI " + command.since()
                    + " verb; the network configuration says cniVersion " + config.cniVersion());
        }
        if (command.networkWide()) {
            // STATUS and GC concern the network, not a container: the spec sets no container variables for them.
            if (command == CniCommand.GC) {
                GcRequest.validAttachments(config);
            }
            return new CniRequest(command, "", "", Optional.empty(), config, CniArgs.NONE);
        }
        String containerId = require(env, "CNI_CONTAINERID");
        if (!CONTAINER_ID.matcher(containerId).matches()) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, "invalid CNI_CONTAINERID '" + printable(containerId)
                    + "': it must start with a letter or digit and hold only letters, digits, '_', '.' and '-'");
        }
        String ifName = require(env, "CNI_IFNAME");
        String ifNameProblem = InterfaceNames.problem(ifName);
        if (ifNameProblem != null) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, "invalid CNI_IFNAME '" + printable(ifName) + "': " + ifNameProblem);
        }
        Optional<Path> netns = Optional.ofNullable(env.get("CNI_NETNS")).filter(s -> !s.isEmpty()).map(CniRequest::netnsPath);
        if (netns.isEmpty() && command != CniCommand.DEL) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, "CNI_NETNS is not set; " + command + " needs the pod's network namespace");
        }
        // Read now so that a malformed one is refused before anything is touched.
        CniArgs args = CniArgs.parse(env.get("CNI_ARGS"));
        config.prevResult();
        if (command == CniCommand.ADD) {
            config.ipamJson();
            config.requestedIps();
        }
        return new CniRequest(command, containerId, ifName, netns, config, args);
    }

    private static Path netnsPath(String value) {
        if (value.length() > MAX_NETNS_PATH || !value.startsWith("/") || value.indexOf('\0') >= 0) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, "CNI_NETNS '" + printable(value) + "' is not an absolute path");
        }
        return Path.of(value).normalize();
    }

    private static String require(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isEmpty()) {
            throw new PatuException(CniError.INVALID_ENVIRONMENT, name + " is not set");
        }
        return value;
    }

    /** Quotes hostile input in messages without letting it forge lines or grow unbounded. */
    static String printable(String value) {
        StringBuilder out = new StringBuilder();
        value.codePoints().limit(80).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return value.codePointCount(0, value.length()) > 80 ? out + "..." : out.toString();
    }
}
