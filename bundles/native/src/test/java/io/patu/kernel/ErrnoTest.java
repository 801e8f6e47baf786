package io.patu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Needs no privileges: strerror through FFM and the message format callers and logs rely on. */
class ErrnoTest {

    @Test
    void describeUsesTheCLibrarysText() {
        assertEquals("No such file or directory", Errno.describe(Errno.ENOENT));
        assertEquals("Device or resource busy", Errno.describe(Errno.EBUSY));
    }

    @Test
    void messageNamesOperationTextAndNumber() {
        NativeException e = new NativeException("bpf_prog_attach(sk_msg_verdict)", Errno.EBUSY, null);
        assertEquals("bpf_prog_attach(sk_msg_verdict) failed: Device or resource busy (errno 16)", e.getMessage());
        assertEquals(16, e.errno());
        assertEquals("bpf_prog_attach(sk_msg_verdict)", e.operation());
        assertEquals("open(/x) failed: Permission denied (errno 13): while testing",
                new NativeException("open(/x)", 13, "while testing").getMessage());
    }
}
