package io.patu.kernel.bpf;

import java.util.Locale;

/** The attach points Patu uses, with their values of {@code enum bpf_attach_type} (linux/bpf.h). */
public enum AttachType {
    CGROUP_SOCK_OPS(3),
    SK_SKB_STREAM_PARSER(4),
    SK_SKB_STREAM_VERDICT(5),
    SK_MSG_VERDICT(7),
    XDP(37),
    /** tcx, what a device receives (for a pod's host veth: what the pod sends); kernel 6.6+. */
    TCX_INGRESS(46),
    /** tcx, what a device transmits (for a pod's host veth: what is delivered to the pod). */
    TCX_EGRESS(47);

    private final int kernelValue;

    AttachType(int kernelValue) {
        this.kernelValue = kernelValue;
    }

    /** The UAPI value passed to bpf(2). */
    public int kernelValue() {
        return kernelValue;
    }

    /** Lower-case name used in error messages, e.g. {@code sk_msg_verdict}. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
