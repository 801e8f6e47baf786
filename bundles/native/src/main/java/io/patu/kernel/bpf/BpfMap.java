package io.patu.kernel.bpf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.bpf.internal.LibBpf;
import io.patu.kernel.internal.Downcalls;
import io.patu.kernel.internal.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A BPF map, either of a {@link BpfObject} (valid until the object is closed) or opened from its
 * pin with {@link #openPinned} (owns its descriptor until {@link #close()}). Keys and values are
 * raw bytes in the kernel's layout; for per-CPU maps a value holds one slot per possible CPU, each
 * {@code valueSize()} rounded up to 8 bytes.
 */
public final class BpfMap implements AutoCloseable {
    /** Update flag: create or replace. */
    public static final long ANY = 0;
    /** Update flag: create only; EEXIST if the key exists. */
    public static final long NOEXIST = 1;
    /** Update flag: replace only; ENOENT if the key is absent. */
    public static final long EXIST = 2;

    private static final int TYPE_PERCPU_HASH = 5;
    private static final int TYPE_PERCPU_ARRAY = 6;
    private static final int TYPE_LRU_PERCPU_HASH = 10;
    private static final int TYPE_PERCPU_CGROUP_STORAGE = 21;

    // struct bpf_map_info (linux/bpf.h): offsets of the fields read by openPinned.
    private static final int MAP_INFO_SIZE = 88;
    private static final int MAP_INFO_TYPE = 0;
    private static final int MAP_INFO_ID = 4;
    private static final int MAP_INFO_KEY_SIZE = 8;
    private static final int MAP_INFO_VALUE_SIZE = 12;
    private static final int MAP_INFO_NAME = 24;

    private final BpfObject owner; // null when opened from a pin
    private final MemorySegment map; // NULL when opened from a pin
    private final String name;
    private final int type;
    private final int keySize;
    private final int valueSize;
    private final Path pinnedAt; // only when opened from a pin
    private int ownFd; // only when opened from a pin; -1 once closed

    private BpfMap(BpfObject owner, MemorySegment map, String name, int type, int keySize, int valueSize,
            Path pinnedAt, int ownFd) {
        this.owner = owner;
        this.map = map;
        this.name = name;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.pinnedAt = pinnedAt;
        this.ownFd = ownFd;
    }

    static BpfMap ofObject(BpfObject owner, MemorySegment map) {
        return new BpfMap(owner, map, Downcalls.string(LibBpf.bpfMapName(map)), LibBpf.bpfMapType(map),
                LibBpf.bpfMapKeySize(map), LibBpf.bpfMapValueSize(map), null, -1);
    }

    /**
     * Opens a map pinned at {@code path} (bpf_obj_get) and reads its shape from the kernel. The
     * returned map owns a descriptor: close it.
     */
    public static BpfMap openPinned(Path path) {
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = LibBpf.check(LibBpf.bpfObjGet(arena.allocateFrom(path.toString())), "bpf_obj_get(" + path + ")");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(MAP_INFO_SIZE, 8);
            MemorySegment length = arena.allocateFrom(JAVA_INT, MAP_INFO_SIZE);
            LibBpf.check(LibBpf.bpfObjGetInfoByFd(fd, info, length), "bpf_obj_get_info_by_fd(" + path + ")");
            String name = info.asSlice(MAP_INFO_NAME, 16).getString(0);
            return new BpfMap(null, MemorySegment.NULL, name, info.get(JAVA_INT, MAP_INFO_TYPE),
                    info.get(JAVA_INT, MAP_INFO_KEY_SIZE), info.get(JAVA_INT, MAP_INFO_VALUE_SIZE), path, fd);
        } catch (RuntimeException e) {
            Libc.closeQuietly(fd);
            throw e;
        }
    }

    /** Number of possible CPUs: the slot count of per-CPU values. */
    public static int possibleCpus() {
        return LibBpf.check(LibBpf.libbpfNumPossibleCpus(), "libbpf_num_possible_cpus");
    }

    public String name() {
        return name;
    }

    /** The map's descriptor; -1 for a map of an object that is not loaded yet. */
    public int fd() {
        if (owner == null) {
            if (ownFd < 0) {
                throw new IllegalStateException("map " + name + " is closed");
            }
            return ownFd;
        }
        owner.ensureOpen();
        return LibBpf.bpfMapFd(map);
    }

    /**
     * The map's kernel id (bpf_map_info.id): what a lookup in a map of maps answers for the map it holds,
     * and how two descriptors are told to be the same map.
     */
    public int id() {
        return LibBpf.objectInfoInt(fd(), MAP_INFO_SIZE, MAP_INFO_ID, name);
    }

    public int keySize() {
        return keySize;
    }

    /** Size of one value as declared; see {@link #valueBufferSize()} for per-CPU maps. */
    public int valueSize() {
        return valueSize;
    }

    public boolean isPerCpu() {
        return type == TYPE_PERCPU_HASH || type == TYPE_PERCPU_ARRAY || type == TYPE_LRU_PERCPU_HASH
                || type == TYPE_PERCPU_CGROUP_STORAGE;
    }

    /** Bytes of a value as passed to update and returned by lookup: all CPUs' slots for per-CPU maps. */
    public int valueBufferSize() {
        return isPerCpu() ? possibleCpus() * ((valueSize + 7) & ~7) : valueSize;
    }

    /** Creates or replaces an element, as {@code flags} ({@link #ANY}, {@link #NOEXIST}, {@link #EXIST}) allow. */
    public void update(byte[] key, byte[] value, long flags) {
        requireLength("key", key, keySize);
        requireLength("value", value, valueBufferSize());
        int fd = fd();
        try (Arena arena = Arena.ofConfined()) {
            LibBpf.check(LibBpf.bpfMapUpdateElem(fd, copy(arena, key), copy(arena, value), flags),
                    "bpf_map_update_elem(" + name + ")");
        }
    }

    /** Deletes an element; false if there was none. */
    public boolean delete(byte[] key) {
        requireLength("key", key, keySize);
        int fd = fd();
        try (Arena arena = Arena.ofConfined()) {
            int rc = LibBpf.bpfMapDeleteElem(fd, copy(arena, key));
            if (rc == -Errno.ENOENT) {
                return false;
            }
            LibBpf.check(rc, "bpf_map_delete_elem(" + name + ")");
            return true;
        }
    }

    /** The value for {@code key}: for per-CPU maps all CPUs' slots, see {@link #valueBufferSize()}. */
    public Optional<byte[]> lookup(byte[] key) {
        requireLength("key", key, keySize);
        int fd = fd();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(Math.max(1, valueBufferSize()), 8);
            int rc = LibBpf.bpfMapLookupElem(fd, copy(arena, key), value);
            if (rc == -Errno.ENOENT) {
                return Optional.empty();
            }
            LibBpf.check(rc, "bpf_map_lookup_elem(" + name + ")");
            return Optional.of(value.asSlice(0, valueBufferSize()).toArray(JAVA_BYTE));
        }
    }

    /**
     * Every key, walked with bpf_map_get_next_key. Not a snapshot: under concurrent deletes a hash
     * map walk may restart from the first key, so keys can repeat; callers de-duplicate if it matters.
     */
    public List<byte[]> keys() {
        int fd = fd();
        List<byte[]> keys = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment current = arena.allocate(Math.max(1, keySize), 8);
            MemorySegment next = arena.allocate(Math.max(1, keySize), 8);
            MemorySegment previous = MemorySegment.NULL;
            while (true) {
                int rc = LibBpf.bpfMapGetNextKey(fd, previous, next);
                if (rc == -Errno.ENOENT) {
                    return keys;
                }
                LibBpf.check(rc, "bpf_map_get_next_key(" + name + ")");
                keys.add(next.asSlice(0, keySize).toArray(JAVA_BYTE));
                current.copyFrom(next);
                previous = current;
            }
        }
    }

    /** A key and its value, as {@link #entries()} reads them. */
    public record Entry(byte[] key, byte[] value) {
    }

    /**
     * Every entry, read in batches (BPF_MAP_LOOKUP_BATCH, 128 entries a system call): one pass over the map,
     * where {@link #keys()} and a lookup per key take two system calls an entry. Not a snapshot: entries
     * added or deleted meanwhile may or may not be there, none twice.
     */
    public List<Entry> entries() {
        return entries(128);
    }

    /** {@link #entries()} starting with batches of {@code batch} entries (a test reads a small map in several). */
    List<Entry> entries(int batch) {
        int fd = fd();
        int valueBytes = valueBufferSize();
        List<Entry> entries = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            // The batch token is opaque (a bucket index for hash maps); key-sized and at least 8 bytes suits all.
            MemorySegment in = arena.allocate(Math.max(8, keySize), 8);
            MemorySegment out = arena.allocate(Math.max(8, keySize), 8);
            MemorySegment count = arena.allocate(JAVA_INT);
            boolean first = true;
            while (true) {
                MemorySegment keys = arena.allocate((long) batch * Math.max(1, keySize), 8);
                MemorySegment values = arena.allocate((long) batch * Math.max(1, valueBytes), 8);
                count.set(JAVA_INT, 0, batch);
                int rc = LibBpf.bpfMapLookupBatch(fd, first ? MemorySegment.NULL : in, out, keys, values, count,
                        MemorySegment.NULL);
                if (rc == -Errno.ENOSPC && batch < (1 << 16)) {
                    batch *= 2; // one hash bucket holds more entries than the batch: retry from the same place, larger
                    continue;
                }
                if (rc != 0 && rc != -Errno.ENOENT) {
                    LibBpf.check(rc, "bpf_map_lookup_batch(" + name + ")");
                }
                int read = count.get(JAVA_INT, 0);
                for (int i = 0; i < read; i++) {
                    entries.add(new Entry(keys.asSlice((long) i * keySize, keySize).toArray(JAVA_BYTE),
                            values.asSlice((long) i * valueBytes, valueBytes).toArray(JAVA_BYTE)));
                }
                if (rc == -Errno.ENOENT) {
                    return entries;
                }
                in.copyFrom(out);
                first = false;
            }
        }
    }

    /** Ids of the programs attached to this map with {@code type} (BPF_PROG_QUERY; sockmaps: kernel 5.19+). */
    public List<Integer> attachedPrograms(AttachType type) {
        try (Arena arena = Arena.ofConfined()) {
            int capacity = 16;
            MemorySegment ids = arena.allocate(JAVA_INT, capacity);
            MemorySegment count = arena.allocateFrom(JAVA_INT, capacity);
            LibBpf.check(LibBpf.bpfProgQuery(fd(), type.kernelValue(), 0, MemorySegment.NULL, ids, count),
                    "bpf_prog_query(" + name + ", " + type.label() + ")");
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < Math.min(capacity, count.get(JAVA_INT, 0)); i++) {
                out.add(ids.getAtIndex(JAVA_INT, i));
            }
            return out;
        }
    }

    /** Where this map is pinned (or will be pinned at load), if anywhere. */
    public Optional<Path> pinPath() {
        if (owner == null) {
            return Optional.of(pinnedAt);
        }
        owner.ensureOpen();
        return Optional.ofNullable(Downcalls.string(LibBpf.bpfMapPinPath(map))).map(Path::of);
    }

    /** Removes the pin, so the map dies with its last user; nothing happens if it is not pinned (any more). */
    public void unpin() {
        if (owner == null) {
            try {
                Libc.unlink(pinnedAt.toString());
            } catch (NativeException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
            }
            return;
        }
        if (pinPath().isEmpty()) {
            return;
        }
        int rc = LibBpf.bpfMapUnpin(map, MemorySegment.NULL);
        if (rc != -Errno.ENOENT) {
            LibBpf.check(rc, "bpf_map__unpin(" + name + ")");
        }
    }

    /** Closes the descriptor of a map from {@link #openPinned}; no-op for a map of a {@link BpfObject}. */
    @Override
    public synchronized void close() {
        if (owner == null && ownFd >= 0) {
            Libc.closeQuietly(ownFd);
            ownFd = -1;
        }
    }

    /** libbpf's own maps for global data (.bss, .data, .rodata, .kconfig) carry a dot in their name. */
    boolean isInternal() {
        return name.contains(".");
    }

    MemorySegment pointer() {
        return map;
    }

    private static MemorySegment copy(Arena arena, byte[] bytes) {
        MemorySegment segment = arena.allocate(Math.max(1, bytes.length), 8);
        segment.copyFrom(MemorySegment.ofArray(bytes));
        return segment;
    }

    private void requireLength(String what, byte[] bytes, int expected) {
        if (bytes.length != expected) {
            throw new IllegalArgumentException(
                    "map " + name + ": " + what + " must be " + expected + " bytes, got " + bytes.length);
        }
    }

    @Override
    public String toString() {
        return "BpfMap[" + name + "]";
    }
}
