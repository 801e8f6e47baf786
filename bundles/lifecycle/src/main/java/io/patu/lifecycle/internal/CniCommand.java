package io.patu.lifecycle.internal;

/** The CNI verbs this agent implements. */
enum CniCommand {
    ADD, DEL, CHECK, VERSION, STATUS
}
