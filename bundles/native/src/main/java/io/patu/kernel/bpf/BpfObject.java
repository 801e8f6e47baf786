package io.patu.kernel.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.internal.LibBpf;
import io.patu.kernel.internal.Downcalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A BPF ELF object (libbpf {@code struct bpf_object}): opened from bytes, optionally told where its
 * maps are pinned, then loaded into the kernel. Maps and programs obtained from it are valid until
 * {@link #close()}.
 */
public final class BpfObject implements AutoCloseable {
    /** sizeof(struct bpf_object_open_opts) in libbpf 1.1; libbpf accepts older, smaller sizes too. */
    private static final long OPEN_OPTS_SIZE = 80;
    private static final long OPEN_OPTS_OBJECT_NAME = 8;

    private final String name;
    // Owns the ELF image and the open options: libbpf keeps pointing into both until close.
    private final Arena arena;
    private final MemorySegment object;
    private final List<BpfMap> maps;
    private final Map<String, BpfProgram> programs = new HashMap<>();
    private volatile boolean closed;

    private BpfObject(String name, Arena arena, MemorySegment object) {
        this.name = name;
        this.arena = arena;
        this.object = object;
        this.maps = listMaps();
    }

    /**
     * Opens (parses, does not load) the BPF ELF object {@code elf}; {@code objectName} names it in
     * libbpf's messages and prefixes its internal maps (.bss, .data, .rodata).
     */
    public static BpfObject open(byte[] elf, String objectName) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment image = arena.allocate(Math.max(1, elf.length), 8);
            image.copyFrom(MemorySegment.ofArray(elf));
            MemorySegment opts = arena.allocate(OPEN_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, OPEN_OPTS_SIZE);
            opts.set(ADDRESS, OPEN_OPTS_OBJECT_NAME, arena.allocateFrom(objectName));
            MemorySegment callState = Downcalls.callState(arena);
            MemorySegment object = LibBpf.bpfObjectOpenMem(callState, image, elf.length, opts);
            if (object.equals(MemorySegment.NULL)) {
                throw new NativeException("bpf_object__open_mem(" + objectName + ")", Downcalls.errno(callState),
                        "not a usable BPF ELF object (" + elf.length + " bytes)");
            }
            return new BpfObject(objectName, arena, object);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** The object name given to {@link #open}. */
    public String name() {
        return name;
    }

    /**
     * Before {@link #load()}: gives every map (except libbpf's internal global-data maps, which
     * belong to one program image) the pin path {@code dir/<map name>}. At load libbpf then reuses a
     * compatible map already pinned there, keeping its contents, or creates and pins a new one: this
     * is how maps survive agent restarts. An incompatible pinned map makes the load fail.
     * {@code dir} must be on a bpffs and exist.
     */
    public synchronized void pinMapsUnder(Path dir) {
        ensureOpen();
        try (Arena call = Arena.ofConfined()) {
            for (BpfMap map : maps) {
                if (map.isInternal()) {
                    continue;
                }
                String path = dir.resolve(map.name()).toString();
                LibBpf.check(LibBpf.bpfMapSetPinPath(map.pointer(), call.allocateFrom(path)),
                        "bpf_map__set_pin_path(" + map.name() + ")");
            }
        }
    }

    /** Loads maps and programs into the kernel (verifier errors are printed by libbpf to stderr). */
    public synchronized void load() {
        ensureOpen();
        LibBpf.check(LibBpf.bpfObjectLoad(object), "bpf_object__load(" + name + ")");
    }

    /** The program whose C function is {@code programName}; NativeException(ENOENT) if absent. */
    public synchronized BpfProgram program(String programName) {
        ensureOpen();
        BpfProgram known = programs.get(programName);
        if (known != null) {
            return known;
        }
        MemorySegment program;
        try (Arena call = Arena.ofConfined()) {
            program = LibBpf.bpfObjectFindProgramByName(object, call.allocateFrom(programName));
        }
        if (program.equals(MemorySegment.NULL)) {
            throw new NativeException("bpf_object__find_program_by_name(" + programName + ")", Errno.ENOENT,
                    "no such program in " + name);
        }
        BpfProgram found = new BpfProgram(this, program, programName);
        programs.put(programName, found);
        return found;
    }

    /** The map named {@code mapName}; NativeException(ENOENT) if absent. */
    public BpfMap map(String mapName) {
        ensureOpen();
        for (BpfMap map : maps) {
            if (map.name().equals(mapName)) {
                return map;
            }
        }
        throw new NativeException("bpf_object__find_map_by_name(" + mapName + ")", Errno.ENOENT,
                "no such map in " + name);
    }

    /** Every map of the object, in ELF order, including libbpf's internal ones. */
    public List<BpfMap> maps() {
        ensureOpen();
        return maps;
    }

    /**
     * Frees the object. Programs and maps are released in the kernel unless something else holds
     * them (a pin, a link, an attachment to a map); pinned maps stay pinned.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LibBpf.bpfObjectClose(object);
        arena.close();
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("BPF object " + name + " is closed");
        }
    }

    private List<BpfMap> listMaps() {
        List<BpfMap> found = new ArrayList<>();
        MemorySegment map = LibBpf.bpfObjectNextMap(object, MemorySegment.NULL);
        while (!map.equals(MemorySegment.NULL)) {
            found.add(BpfMap.ofObject(this, map));
            map = LibBpf.bpfObjectNextMap(object, map);
        }
        return List.copyOf(found);
    }
}
