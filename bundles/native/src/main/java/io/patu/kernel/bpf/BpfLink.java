package io.patu.kernel.bpf;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.internal.LibBpf;
import io.patu.kernel.internal.Downcalls;
import io.patu.kernel.internal.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A BPF link: the kernel object that keeps a program attached. The attachment lives as long as
 * someone holds the link, i.e. this handle (until {@link #close()}) or a pin on bpffs. The agent pins
 * its links so the datapath keeps running across agent restarts, reopens them with
 * {@link #openPinned} and swaps in new program versions with {@link #updateProgram}.
 *
 * <ul>
 * <li>{@link #close()} releases this handle. If the link is not pinned (and not
 * {@link #disconnect() disconnected}), that detaches the program.</li>
 * <li>{@link #detach()} detaches the program in the kernel now, pinned or not; the (pinned) link
 * object remains, "defunct", until unpinned and closed.</li>
 * <li>{@link #unpin()} removes the pin; the attachment then lasts only as long as this handle.</li>
 * </ul>
 */
public final class BpfLink implements AutoCloseable {
    private MemorySegment link; // NULL once closed

    BpfLink(MemorySegment link) {
        this.link = link;
    }

    /**
     * Opens the link pinned at {@code path}; empty if nothing is pinned there. Closing the returned
     * handle does not detach (the pin still holds the link).
     */
    public static Optional<BpfLink> openPinned(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Downcalls.callState(arena);
            MemorySegment link = LibBpf.bpfLinkOpen(callState, arena.allocateFrom(path.toString()));
            if (link.equals(MemorySegment.NULL)) {
                int errno = Downcalls.errno(callState);
                if (errno == Errno.ENOENT) {
                    return Optional.empty(); // unpinned by someone else meanwhile
                }
                throw new NativeException("bpf_link__open(" + path + ")", errno, null);
            }
            return Optional.of(new BpfLink(link));
        }
    }

    /** The link's descriptor. */
    public synchronized int fd() {
        return LibBpf.bpfLinkFd(open());
    }

    /** Pins the link at {@code path} (on bpffs; the file must not exist). */
    public synchronized void pin(Path path) {
        try (Arena arena = Arena.ofConfined()) {
            LibBpf.check(LibBpf.bpfLinkPin(open(), arena.allocateFrom(path.toString())), "bpf_link__pin(" + path + ")");
        }
    }

    /** Where this handle pinned or opened the link, if anywhere. */
    public synchronized Optional<Path> pinPath() {
        return Optional.ofNullable(Downcalls.string(LibBpf.bpfLinkPinPath(open()))).map(Path::of);
    }

    /** Removes the pin this handle knows of (from {@link #pin} or {@link #openPinned}); no-op if none. */
    public synchronized void unpin() {
        if (pinPath().isEmpty()) {
            return;
        }
        int rc = LibBpf.bpfLinkUnpin(open());
        if (rc != -Errno.ENOENT) {
            LibBpf.check(rc, "bpf_link__unpin");
        }
    }

    /**
     * Atomically replaces the attached program with {@code program} (same type and attach type):
     * no moment without a program, used after an agent restart or bundle update.
     */
    public synchronized void updateProgram(BpfProgram program) {
        LibBpf.check(LibBpf.bpfLinkUpdateProgram(open(), program.pointer()),
                "bpf_link__update_program(" + program.name() + ")");
    }

    /** Detaches the program in the kernel now, even if the link is pinned or held elsewhere. */
    public synchronized void detach() {
        LibBpf.check(LibBpf.bpfLinkDetach(open()), "bpf_link__detach");
    }

    /**
     * Makes a later {@link #close()} only release memory and keep the attachment; libbpf then also
     * leaves the descriptor open, so use this only for links that are pinned or must live as long as
     * the process.
     */
    public synchronized void disconnect() {
        LibBpf.bpfLinkDisconnect(open());
    }

    /**
     * Runs an iterator link (see {@link BpfProgram#attachIterator()}) to its end: creates an iterator
     * descriptor and reads it until end of file. The kernel binds the iteration to the network namespace of
     * the calling thread at that moment, so call it inside {@code NetNs.callIn} to cover a pod's namespace.
     *
     * @return the bytes the program wrote with seq_printf helpers (Patu's iterators write none)
     */
    public synchronized long runIterator() {
        int iterFd = LibBpf.check(LibBpf.bpfIterCreate(fd()), "bpf_iter_create");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096);
            long total = 0;
            long count;
            while ((count = Libc.read(iterFd, buffer, "read(bpf_iter)")) > 0) {
                total += count;
            }
            return total;
        } finally {
            Libc.closeQuietly(iterFd);
        }
    }

    /** Releases this handle (bpf_link__destroy); detaches only if nothing else holds the link. */
    @Override
    public synchronized void close() {
        if (link == null) {
            return;
        }
        MemorySegment closing = link;
        link = null;
        LibBpf.check(LibBpf.bpfLinkDestroy(closing), "bpf_link__destroy");
    }

    private MemorySegment open() {
        if (link == null) {
            throw new IllegalStateException("BPF link is closed");
        }
        return link;
    }
}
