package io.patu.policy.internal;

import java.util.List;

/**
 * One entry of a rule's {@code from} or {@code to}: selectors (both present = AND; podSelector alone = the
 * policy's namespace; namespaceSelector alone = every pod of the selected namespaces) or an ipBlock.
 *
 * @param podSelector       null when absent
 * @param namespaceSelector null when absent
 * @param cidr              the ipBlock, or null
 * @param except            the ipBlock's exceptions, each strictly inside {@code cidr}
 */
record Peer(Selector podSelector, Selector namespaceSelector, Cidr cidr, List<Cidr> except) {
    Peer {
        except = List.copyOf(except);
    }

    boolean isIpBlock() {
        return cidr != null;
    }

    @Override
    public String toString() {
        if (isIpBlock()) {
            return "ipBlock " + cidr + (except.isEmpty() ? "" : " except " + except);
        }
        if (namespaceSelector == null) {
            return "pods " + podSelector;
        }
        return "namespaces " + namespaceSelector + (podSelector == null ? "" : " pods " + podSelector);
    }
}
