package io.patu.policy.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A binary trie of the candidate prefixes of one flattening, one root per family, so that the prefixes a
 * CIDR covers are its subtree and a prefix's LPM parent is its nearest candidate ancestor: flattening costs what
 * the rules cover, not candidates times rules.
 */
final class PrefixTrie {
    static final class Node {
        private Node zero;
        private Node one;
        /** Set when a candidate prefix ends here. */
        Cidr prefix;
        /** Ports of every rule covering this candidate, merged at the end; null until a rule covers it. */
        private List<PortRange> ports;

        void addPorts(List<PortRange> more) {
            if (ports == null) {
                ports = new ArrayList<>(more);
            } else {
                ports.addAll(more);
            }
        }

        List<PortRange> ports() {
            return ports == null ? List.of() : ports;
        }
    }

    private final Node v4 = new Node();
    private final Node v6 = new Node();

    void add(Cidr prefix) {
        Node node = root(prefix);
        byte[] bytes = prefix.address().getAddress();
        for (int bit = 0; bit < prefix.length(); bit++) {
            if (bit(bytes, bit)) {
                node = node.one == null ? (node.one = new Node()) : node.one;
            } else {
                node = node.zero == null ? (node.zero = new Node()) : node.zero;
            }
        }
        node.prefix = prefix;
    }

    /** The node where {@code prefix} ends, or null when no candidate lies at or below it. */
    Node find(Cidr prefix) {
        return walk(root(prefix), prefix.address().getAddress(), prefix.length());
    }

    /** The node where the host prefix of {@code host} ends, or null (no {@link Cidr} made: called per pod and rule). */
    Node find(InetAddress host) {
        byte[] bytes = host.getAddress();
        return walk(bytes.length == 4 ? v4 : v6, bytes, bytes.length * 8);
    }

    private static Node walk(Node node, byte[] bytes, int length) {
        for (int bit = 0; bit < length && node != null; bit++) {
            node = bit(bytes, bit) ? node.one : node.zero;
        }
        return node;
    }

    /**
     * Every candidate in the subtree of {@code from}, except the subtrees of candidates that are in
     * {@code skip} (an ipBlock's excepts, which are candidates themselves).
     */
    static void visit(Node from, List<Cidr> skip, java.util.function.Consumer<Node> visitor) {
        if (from == null) {
            return;
        }
        if (from.prefix != null && skip.contains(from.prefix)) {
            return;
        }
        if (from.prefix != null) {
            visitor.accept(from);
        }
        visit(from.zero, skip, visitor);
        visit(from.one, skip, visitor);
    }

    /** Every candidate, parents before children, with the nearest candidate ancestor (null for none). */
    void walk(BiConsumer<Node, Node> visitor) {
        walk(v4, null, visitor);
        walk(v6, null, visitor);
    }

    private static void walk(Node node, Node parent, BiConsumer<Node, Node> visitor) {
        if (node == null) {
            return;
        }
        Node nextParent = parent;
        if (node.prefix != null) {
            visitor.accept(node, parent);
            nextParent = node;
        }
        walk(node.zero, nextParent, visitor);
        walk(node.one, nextParent, visitor);
    }

    private Node root(Cidr prefix) {
        return prefix.isIpv4() ? v4 : v6;
    }

    private static boolean bit(byte[] bytes, int bit) {
        return (bytes[bit / 8] & (0x80 >>> (bit % 8))) != 0;
    }
}
