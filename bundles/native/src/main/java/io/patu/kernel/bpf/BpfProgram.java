package io.patu.kernel.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.internal.LibBpf;
import io.patu.kernel.internal.Downcalls;
import io.patu.kernel.internal.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** A program of a {@link BpfObject}; valid until the object is closed. */
public final class BpfProgram {
    /** enum bpf_stats_type: BPF_STATS_RUN_TIME. */
    private static final int BPF_STATS_RUN_TIME = 0;
    // struct bpf_prog_info (linux/bpf.h, kernel 5.12+ layout): size and offset of run_cnt.
    private static final int PROG_INFO_SIZE = 232;
    private static final int PROG_INFO_RUN_CNT = 200;
    private static final int PROG_INFO_ID = 4;
    /** BPF_F_BEFORE (linux/bpf.h, 6.6+): attach before the relative program, or at the head without one. */
    private static final int BPF_F_BEFORE = 1 << 3;
    private static final long LINK_CREATE_OPTS_SIZE = 16;
    private static final long LINK_CREATE_OPTS_FLAGS = 8;
    /** XDP_FLAGS_DRV_MODE (linux/if_link.h): native XDP in the driver, never the generic fallback. */
    private static final int XDP_FLAGS_DRV_MODE = 1 << 2;

    private final BpfObject owner;
    private final MemorySegment program;
    private final String name;

    BpfProgram(BpfObject owner, MemorySegment program, String name) {
        this.owner = owner;
        this.program = program;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** The program's descriptor; -1 until the object is loaded. */
    public int fd() {
        owner.ensureOpen();
        return LibBpf.bpfProgramFd(program);
    }

    /**
     * Attaches this program to the cgroup v2 directory {@code cgroupDir} through a BPF link (the
     * attach type comes from the program's section, e.g. {@code sockops}). The attachment lasts as
     * long as the link is open or pinned; see {@link BpfLink}.
     */
    public BpfLink attachCgroup(Path cgroupDir) {
        owner.ensureOpen();
        int cgroupFd = Libc.open(cgroupDir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Downcalls.callState(arena);
            MemorySegment link = LibBpf.bpfProgramAttachCgroup(callState, program, cgroupFd);
            if (link.equals(MemorySegment.NULL)) {
                throw new NativeException("bpf_program__attach_cgroup(" + name + ")", Downcalls.errno(callState),
                        cgroupDir.toString());
            }
            return new BpfLink(link);
        } finally {
            Libc.closeQuietly(cgroupFd);
        }
    }

    /**
     * Attaches this tc program to the tcx hook {@code type} ({@link AttachType#TCX_INGRESS} or
     * {@link AttachType#TCX_EGRESS}) of the device {@code ifindex} through a BPF link, and pins the link at
     * {@code pin} (on bpffs; the file must not exist). {@code first} puts the program at the head of the
     * hook's chain (BPF_F_BEFORE with no relative program), else it is appended. The attachment lasts until
     * the pin is removed and every handle closed, or the device goes away.
     *
     * <p>libbpf 1.1 has no tcx attach of its own and no way to wrap a link descriptor, so the link is
     * created with {@code bpf_link_create}, pinned, and reopened from its pin as a {@link BpfLink}.
     */
    public BpfLink attachTcx(int ifindex, AttachType type, boolean first, Path pin) {
        if (type != AttachType.TCX_INGRESS && type != AttachType.TCX_EGRESS) {
            throw new IllegalArgumentException("not a tcx attach type: " + type);
        }
        int linkFd;
        try (Arena arena = Arena.ofConfined()) {
            // struct bpf_link_create_opts of libbpf 1.1, cut after flags: {size_t sz; __u32 flags;}.
            MemorySegment opts = arena.allocate(LINK_CREATE_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, LINK_CREATE_OPTS_SIZE);
            opts.set(JAVA_INT, LINK_CREATE_OPTS_FLAGS, first ? BPF_F_BEFORE : 0);
            linkFd = LibBpf.check(LibBpf.bpfLinkCreate(fd(), ifindex, type.kernelValue(), opts),
                    "bpf_link_create(" + name + ", " + type.label() + ", ifindex " + ifindex + ")");
        }
        try {
            try (Arena arena = Arena.ofConfined()) {
                LibBpf.check(LibBpf.bpfObjPin(linkFd, arena.allocateFrom(pin.toString())), "bpf_obj_pin(" + pin + ")");
            }
            return BpfLink.openPinned(pin).orElseThrow(
                    () -> new NativeException("bpf_link__open(" + pin + ")", Errno.ENOENT, "pin vanished"));
        } finally {
            Libc.closeQuietly(linkFd); // the pin (and the reopened handle) hold the link now
        }
    }

    /**
     * Attaches this XDP program in native (driver) mode to the device {@code ifindex} through a BPF link
     * pinned at {@code pin} (on bpffs; the file must not exist), so an update can replace the program in
     * place. Never falls back to generic XDP: a device whose driver has no native XDP is refused with
     * {@link Errno#ENOTSUP}, and one that already has an XDP program with {@link Errno#EBUSY}. The
     * attachment lasts until the pin is removed and every handle closed, or the device goes away.
     */
    public BpfLink attachXdp(int ifindex, Path pin) {
        int linkFd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment opts = arena.allocate(LINK_CREATE_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, LINK_CREATE_OPTS_SIZE);
            // For BPF_XDP, link_create.flags carries the XDP mode.
            opts.set(JAVA_INT, LINK_CREATE_OPTS_FLAGS, XDP_FLAGS_DRV_MODE);
            linkFd = LibBpf.check(LibBpf.bpfLinkCreate(fd(), ifindex, AttachType.XDP.kernelValue(), opts),
                    "bpf_link_create(" + name + ", xdp native, ifindex " + ifindex + ")");
        }
        try {
            try (Arena arena = Arena.ofConfined()) {
                LibBpf.check(LibBpf.bpfObjPin(linkFd, arena.allocateFrom(pin.toString())), "bpf_obj_pin(" + pin + ")");
            }
            return BpfLink.openPinned(pin).orElseThrow(
                    () -> new NativeException("bpf_link__open(" + pin + ")", Errno.ENOENT, "pin vanished"));
        } finally {
            Libc.closeQuietly(linkFd);
        }
    }

    /**
     * Creates an iterator link for this {@code iter/...} program (bpf_program__attach_iter); run it with
     * {@link BpfLink#runIterator()}. Not pinned: it lives until closed.
     */
    public BpfLink attachIterator() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = Downcalls.callState(arena);
            MemorySegment link = LibBpf.bpfProgramAttachIter(callState, pointer(), MemorySegment.NULL);
            if (link.equals(MemorySegment.NULL)) {
                throw new NativeException("bpf_program__attach_iter(" + name + ")", Downcalls.errno(callState), null);
            }
            return new BpfLink(link);
        }
    }

    /**
     * Attaches this program to a sockmap/sockhash (bpf_prog_attach). This is the kernel's legacy
     * attach: the attachment belongs to the map and lasts until {@link #detachFromMap} or until the
     * map is freed, independent of this process.
     */
    public void attachToMap(BpfMap map, AttachType type) {
        LibBpf.check(LibBpf.bpfProgAttach(fd(), map.fd(), type.kernelValue(), 0),
                "bpf_prog_attach(" + type.label() + ")");
    }

    /** Undoes {@link #attachToMap} (bpf_prog_detach2). */
    public void detachFromMap(BpfMap map, AttachType type) {
        LibBpf.check(LibBpf.bpfProgDetach2(fd(), map.fd(), type.kernelValue()),
                "bpf_prog_detach2(" + type.label() + ")");
    }

    /** The kernel's id of the loaded program (bpf_prog_info.id), as program queries and bpftool show it. */
    public int id() {
        return LibBpf.objectInfoInt(fd(), PROG_INFO_SIZE, PROG_INFO_ID, name);
    }

    /**
     * How often the kernel ran this program. The kernel counts only while run statistics are
     * enabled ({@link #enableRunStats()} or sysctl kernel.bpf_stats_enabled), so 0 proves nothing
     * unless they were.
     */
    public long runCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(PROG_INFO_SIZE, 8);
            MemorySegment length = arena.allocateFrom(JAVA_INT, PROG_INFO_SIZE);
            LibBpf.check(LibBpf.bpfObjGetInfoByFd(fd(), info, length), "bpf_obj_get_info_by_fd(" + name + ")");
            return info.get(JAVA_LONG, PROG_INFO_RUN_CNT);
        }
    }

    /**
     * Enables run-time statistics of all BPF programs (bpf_enable_stats) until the returned handle
     * is closed; they cost a little on every program run, so keep the window short.
     */
    public static AutoCloseable enableRunStats() {
        int fd = LibBpf.check(LibBpf.bpfEnableStats(BPF_STATS_RUN_TIME), "bpf_enable_stats(run_time)");
        return new AutoCloseable() {
            private boolean closed;

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    Libc.closeQuietly(fd);
                }
            }
        };
    }

    MemorySegment pointer() {
        owner.ensureOpen();
        return program;
    }

    @Override
    public String toString() {
        return "BpfProgram[" + name + "]";
    }
}
