package io.patu.lifecycle.internal;

/** The CNI verbs this agent implements, with the first spec version that has each. */
enum CniCommand {
    ADD("0.1.0"), DEL("0.1.0"), CHECK("0.4.0"), VERSION("0.2.0"), STATUS("1.1.0"), GC("1.1.0");

    private final String since;

    CniCommand(String since) {
        this.since = since;
    }

    /** The spec version that introduced the verb. */
    String since() {
        return since;
    }

    /** Verbs about the network as a whole: the runtime sets no container variables for them. */
    boolean networkWide() {
        return this == STATUS || this == GC;
    }
}
