package io.patu.kernel.nft;

import io.patu.kernel.NativeException;
import io.patu.kernel.internal.Downcalls;
import io.patu.kernel.nft.internal.LibNftables;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One libnftables context: runs nftables commands (the {@code nft} language) in the network namespace of
 * the thread that opened it. Everything one {@link #run} call is given goes to the kernel as one netlink
 * batch, so a table is replaced or a set refilled atomically: packets see the old rules or the new, never
 * a half-way state. Output and errors are buffered, never written to the agent's stdout or stderr.
 *
 * <p>A context is not thread-safe in libnftables; this class serialises its calls.
 */
public final class Nftables implements AutoCloseable {
    private MemorySegment ctx;

    private Nftables(MemorySegment ctx) {
        this.ctx = ctx;
    }

    /**
     * A context for the calling thread's network namespace.
     *
     * @throws NativeException when libnftables cannot create one
     * @throws IllegalStateException when libnftables.so.1 is not installed (Debian: libnftables1)
     */
    public static Nftables open() {
        MemorySegment ctx;
        try {
            ctx = LibNftables.nftCtxNew(LibNftables.NFT_CTX_DEFAULT);
        } catch (LinkageError e) {
            // The library's lookup failed in its holder's initialiser (first time) or left the holder unusable.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("libnftables.so.1 cannot be loaded (Debian package libnftables1): " + cause.getMessage(), e);
        }
        if (ctx.equals(MemorySegment.NULL)) {
            throw new NativeException("nft_ctx_new", 0, "libnftables could not create a context");
        }
        if (LibNftables.nftCtxBufferOutput(ctx) != 0 || LibNftables.nftCtxBufferError(ctx) != 0) {
            LibNftables.nftCtxFree(ctx);
            throw new NativeException("nft_ctx_buffer_output", 0, "libnftables could not buffer its output");
        }
        return new Nftables(ctx);
    }

    /**
     * Runs {@code commands} (one or more lines of the nft language) as one transaction and returns what they
     * print (a {@code list} command's ruleset text; empty for changes).
     *
     * @throws NativeException naming the first failing command and libnftables's message; nothing of the
     *                         batch is applied then
     */
    public synchronized String run(String commands) {
        if (ctx == null) {
            throw new IllegalStateException("nftables context is closed");
        }
        try (Arena arena = Arena.ofConfined()) {
            int result = LibNftables.nftRunCmdFromBuffer(ctx, arena.allocateFrom(commands));
            String output = text(LibNftables.nftCtxGetOutputBuffer(ctx));
            String errors = text(LibNftables.nftCtxGetErrorBuffer(ctx));
            if (result != 0) {
                throw new NativeException("nft_run_cmd_from_buffer", 0, errors.isBlank() ? "nftables refused: " + firstLine(commands)
                        : errors.strip());
            }
            return output;
        }
    }

    /** True when {@code family name} (e.g. {@code inet patu_egress}) exists in this namespace. */
    public boolean tableExists(String family, String name) {
        for (String line : run("list tables " + family).split("\n")) {
            if (line.strip().equals("table " + family + " " + name)) {
                return true;
            }
        }
        return false;
    }

    private static String text(MemorySegment buffer) {
        String text = Downcalls.string(buffer);
        return text == null ? "" : text;
    }

    private static String firstLine(String commands) {
        int end = commands.indexOf('\n');
        return end < 0 ? commands : commands.substring(0, end);
    }

    @Override
    public synchronized void close() {
        if (ctx != null) {
            LibNftables.nftCtxFree(ctx);
            ctx = null;
        }
    }
}
