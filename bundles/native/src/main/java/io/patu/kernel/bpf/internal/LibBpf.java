package io.patu.kernel.bpf.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.patu.kernel.NativeException;
import io.patu.kernel.internal.Downcalls;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Bindings to the libbpf 1.x functions Patu uses, one lazily initialised holder per function, in
 * jextract's shape. Raw results are returned unchanged; translating them into exceptions is the
 * facade's job ({@link #check}). libbpf 1.x returns -errno from int functions; functions returning
 * pointers return NULL and set errno, so those bindings take a call-state segment first
 * (see {@link Downcalls#callState}).
 *
 * <p>Signatures follow /usr/include/bpf/libbpf.h and bpf.h of libbpf 1.1.
 */
public final class LibBpf {
    private LibBpf() {
    }

    /** libbpf.so.1, loaded once for the life of the JVM (its objects outlive any one arena). */
    private static final class Library {
        static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
    }

    /** Turns libbpf's -errno convention into {@link NativeException}; returns non-negative results. */
    public static int check(int result, String operation) {
        if (result < 0) {
            throw new NativeException(operation, -result, null);
        }
        return result;
    }

    private static final class bpf_object__open_mem {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Library.LOOKUP, "bpf_object__open_mem",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    }
    /** {@code bpf_object__open_mem}; NULL on failure, errno set. */
    public static MemorySegment bpfObjectOpenMem(MemorySegment callState, MemorySegment buffer, long size, MemorySegment opts) {
        try {
            return (MemorySegment) bpf_object__open_mem.HANDLE.invokeExact(callState, buffer, size, opts);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_object__load {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_object__load",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_object__load}. */
    public static int bpfObjectLoad(MemorySegment object) {
        try {
            return (int) bpf_object__load.HANDLE.invokeExact(object);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_object__close {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_object__close",
                FunctionDescriptor.ofVoid(ADDRESS));
    }
    /** {@code bpf_object__close}. */
    public static void bpfObjectClose(MemorySegment object) {
        try {
            bpf_object__close.HANDLE.invokeExact(object);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_object__find_program_by_name {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_object__find_program_by_name",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    }
    /** {@code bpf_object__find_program_by_name}. */
    public static MemorySegment bpfObjectFindProgramByName(MemorySegment object, MemorySegment name) {
        try {
            return (MemorySegment) bpf_object__find_program_by_name.HANDLE.invokeExact(object, name);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_object__find_map_by_name {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_object__find_map_by_name",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    }
    /** {@code bpf_object__find_map_by_name}. */
    public static MemorySegment bpfObjectFindMapByName(MemorySegment object, MemorySegment name) {
        try {
            return (MemorySegment) bpf_object__find_map_by_name.HANDLE.invokeExact(object, name);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_object__next_map {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_object__next_map",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    }
    /** {@code bpf_object__next_map}. */
    public static MemorySegment bpfObjectNextMap(MemorySegment object, MemorySegment previous) {
        try {
            return (MemorySegment) bpf_object__next_map.HANDLE.invokeExact(object, previous);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__name {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__name",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
    }
    /** {@code bpf_map__name}. */
    public static MemorySegment bpfMapName(MemorySegment map) {
        try {
            return (MemorySegment) bpf_map__name.HANDLE.invokeExact(map);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__fd {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__fd",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_map__fd}. */
    public static int bpfMapFd(MemorySegment map) {
        try {
            return (int) bpf_map__fd.HANDLE.invokeExact(map);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__key_size {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__key_size",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_map__key_size}. */
    public static int bpfMapKeySize(MemorySegment map) {
        try {
            return (int) bpf_map__key_size.HANDLE.invokeExact(map);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__value_size {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__value_size",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_map__value_size}. */
    public static int bpfMapValueSize(MemorySegment map) {
        try {
            return (int) bpf_map__value_size.HANDLE.invokeExact(map);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__type {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__type",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_map__type}. */
    public static int bpfMapType(MemorySegment map) {
        try {
            return (int) bpf_map__type.HANDLE.invokeExact(map);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__set_pin_path {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__set_pin_path",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code bpf_map__set_pin_path}. */
    public static int bpfMapSetPinPath(MemorySegment map, MemorySegment path) {
        try {
            return (int) bpf_map__set_pin_path.HANDLE.invokeExact(map, path);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__pin_path {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__pin_path",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
    }
    /** {@code bpf_map__pin_path}. */
    public static MemorySegment bpfMapPinPath(MemorySegment map) {
        try {
            return (MemorySegment) bpf_map__pin_path.HANDLE.invokeExact(map);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map__unpin {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map__unpin",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code bpf_map__unpin}. */
    public static int bpfMapUnpin(MemorySegment map, MemorySegment path) {
        try {
            return (int) bpf_map__unpin.HANDLE.invokeExact(map, path);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map_update_elem {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map_update_elem",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    }
    /** {@code bpf_map_update_elem}. */
    public static int bpfMapUpdateElem(int fd, MemorySegment key, MemorySegment value, long flags) {
        try {
            return (int) bpf_map_update_elem.HANDLE.invokeExact(fd, key, value, flags);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map_lookup_elem {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map_lookup_elem",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code bpf_map_lookup_elem}. */
    public static int bpfMapLookupElem(int fd, MemorySegment key, MemorySegment value) {
        try {
            return (int) bpf_map_lookup_elem.HANDLE.invokeExact(fd, key, value);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map_delete_elem {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map_delete_elem",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }
    /** {@code bpf_map_delete_elem}. */
    public static int bpfMapDeleteElem(int fd, MemorySegment key) {
        try {
            return (int) bpf_map_delete_elem.HANDLE.invokeExact(fd, key);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map_get_next_key {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map_get_next_key",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code bpf_map_get_next_key}. */
    public static int bpfMapGetNextKey(int fd, MemorySegment key, MemorySegment nextKey) {
        try {
            return (int) bpf_map_get_next_key.HANDLE.invokeExact(fd, key, nextKey);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class libbpf_num_possible_cpus {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "libbpf_num_possible_cpus",
                FunctionDescriptor.of(JAVA_INT));
    }
    /** {@code libbpf_num_possible_cpus}. */
    public static int libbpfNumPossibleCpus() {
        try {
            return (int) libbpf_num_possible_cpus.HANDLE.invokeExact();
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_obj_get {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_obj_get",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_obj_get}. */
    public static int bpfObjGet(MemorySegment path) {
        try {
            return (int) bpf_obj_get.HANDLE.invokeExact(path);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_obj_get_info_by_fd {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_obj_get_info_by_fd",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code bpf_obj_get_info_by_fd}. */
    public static int bpfObjGetInfoByFd(int fd, MemorySegment info, MemorySegment infoLength) {
        try {
            return (int) bpf_obj_get_info_by_fd.HANDLE.invokeExact(fd, info, infoLength);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * One {@code int} field of what {@code bpf_obj_get_info_by_fd} answers for a map, program or link (their
     * ids sit at the same offset of each info struct), read into a buffer of that struct's size.
     */
    public static int objectInfoInt(int fd, long infoSize, long offset, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(infoSize, 8);
            MemorySegment length = arena.allocateFrom(JAVA_INT, (int) infoSize);
            check(bpfObjGetInfoByFd(fd, info, length), "bpf_obj_get_info_by_fd(" + what + ")");
            return info.get(JAVA_INT, offset);
        }
    }

    private static final class bpf_program__name {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_program__name",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
    }
    /** {@code bpf_program__name}. */
    public static MemorySegment bpfProgramName(MemorySegment program) {
        try {
            return (MemorySegment) bpf_program__name.HANDLE.invokeExact(program);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_program__fd {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_program__fd",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_program__fd}. */
    public static int bpfProgramFd(MemorySegment program) {
        try {
            return (int) bpf_program__fd.HANDLE.invokeExact(program);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_program__attach_cgroup {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Library.LOOKUP, "bpf_program__attach_cgroup",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    }
    /** {@code bpf_program__attach_cgroup}; NULL on failure, errno set. */
    public static MemorySegment bpfProgramAttachCgroup(MemorySegment callState, MemorySegment program, int cgroupFd) {
        try {
            return (MemorySegment) bpf_program__attach_cgroup.HANDLE.invokeExact(callState, program, cgroupFd);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_prog_attach {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_prog_attach",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }
    /** {@code bpf_prog_attach}. */
    public static int bpfProgAttach(int programFd, int targetFd, int type, int flags) {
        try {
            return (int) bpf_prog_attach.HANDLE.invokeExact(programFd, targetFd, type, flags);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_prog_query {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_prog_query",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }
    /** {@code bpf_prog_query}: ids of the programs attached to a target (cgroup, sockmap, ...). */
    public static int bpfProgQuery(int targetFd, int type, int queryFlags, MemorySegment attachFlags,
            MemorySegment programIds, MemorySegment programCount) {
        try {
            return (int) bpf_prog_query.HANDLE.invokeExact(targetFd, type, queryFlags, attachFlags, programIds, programCount);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_map_lookup_batch {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_map_lookup_batch",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    }
    /** {@code bpf_map_lookup_batch}; -ENOENT when the batch reached the end (count still says how many it read). */
    public static int bpfMapLookupBatch(int fd, MemorySegment inBatch, MemorySegment outBatch, MemorySegment keys,
            MemorySegment values, MemorySegment count, MemorySegment opts) {
        try {
            return (int) bpf_map_lookup_batch.HANDLE.invokeExact(fd, inBatch, outBatch, keys, values, count, opts);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_prog_detach2 {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_prog_detach2",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }
    /** {@code bpf_prog_detach2}. */
    public static int bpfProgDetach2(int programFd, int targetFd, int type) {
        try {
            return (int) bpf_prog_detach2.HANDLE.invokeExact(programFd, targetFd, type);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_enable_stats {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_enable_stats",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }
    /** {@code bpf_enable_stats}. */
    public static int bpfEnableStats(int type) {
        try {
            return (int) bpf_enable_stats.HANDLE.invokeExact(type);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__open {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Library.LOOKUP, "bpf_link__open",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
    }
    /** {@code bpf_link__open}; NULL on failure, errno set. */
    public static MemorySegment bpfLinkOpen(MemorySegment callState, MemorySegment path) {
        try {
            return (MemorySegment) bpf_link__open.HANDLE.invokeExact(callState, path);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__fd {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__fd",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_link__fd}. */
    public static int bpfLinkFd(MemorySegment link) {
        try {
            return (int) bpf_link__fd.HANDLE.invokeExact(link);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__pin {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__pin",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code bpf_link__pin}. */
    public static int bpfLinkPin(MemorySegment link, MemorySegment path) {
        try {
            return (int) bpf_link__pin.HANDLE.invokeExact(link, path);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__unpin {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__unpin",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_link__unpin}. */
    public static int bpfLinkUnpin(MemorySegment link) {
        try {
            return (int) bpf_link__unpin.HANDLE.invokeExact(link);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__pin_path {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__pin_path",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
    }
    /** {@code bpf_link__pin_path}. */
    public static MemorySegment bpfLinkPinPath(MemorySegment link) {
        try {
            return (MemorySegment) bpf_link__pin_path.HANDLE.invokeExact(link);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__update_program {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__update_program",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    /** {@code bpf_link__update_program}. */
    public static int bpfLinkUpdateProgram(MemorySegment link, MemorySegment program) {
        try {
            return (int) bpf_link__update_program.HANDLE.invokeExact(link, program);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__detach {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__detach",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_link__detach}. */
    public static int bpfLinkDetach(MemorySegment link) {
        try {
            return (int) bpf_link__detach.HANDLE.invokeExact(link);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__disconnect {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__disconnect",
                FunctionDescriptor.ofVoid(ADDRESS));
    }
    /** {@code bpf_link__disconnect}. */
    public static void bpfLinkDisconnect(MemorySegment link) {
        try {
            bpf_link__disconnect.HANDLE.invokeExact(link);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link__destroy {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link__destroy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** {@code bpf_link__destroy}. */
    public static int bpfLinkDestroy(MemorySegment link) {
        try {
            return (int) bpf_link__destroy.HANDLE.invokeExact(link);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_link_create {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_link_create",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }
    /** {@code bpf_link_create}: a link's descriptor, or -errno. */
    public static int bpfLinkCreate(int programFd, int targetFd, int attachType, MemorySegment opts) {
        try {
            return (int) bpf_link_create.HANDLE.invokeExact(programFd, targetFd, attachType, opts);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_obj_pin {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_obj_pin",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }
    /** {@code bpf_obj_pin}. */
    public static int bpfObjPin(int fd, MemorySegment path) {
        try {
            return (int) bpf_obj_pin.HANDLE.invokeExact(fd, path);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_program__attach_iter {
        static final MethodHandle HANDLE = Downcalls.downcallWithErrno(Library.LOOKUP, "bpf_program__attach_iter",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    }
    /** {@code bpf_program__attach_iter}; NULL on failure, errno set. */
    public static MemorySegment bpfProgramAttachIter(MemorySegment callState, MemorySegment program, MemorySegment opts) {
        try {
            return (MemorySegment) bpf_program__attach_iter.HANDLE.invokeExact(callState, program, opts);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class bpf_iter_create {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "bpf_iter_create",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }
    /** {@code bpf_iter_create}: a readable descriptor running the iterator, or -errno. */
    public static int bpfIterCreate(int linkFd) {
        try {
            return (int) bpf_iter_create.HANDLE.invokeExact(linkFd);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static final class libbpf_strerror {
        static final MethodHandle HANDLE = Downcalls.downcall(Library.LOOKUP, "libbpf_strerror",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /** libbpf's text for its own error codes (4000 and up, e.g. 4001 "BPF object format invalid"). */
    public static String strerror(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(256);
            int rc = (int) libbpf_strerror.HANDLE.invokeExact(errno, text, text.byteSize());
            return rc < 0 ? null : text.getString(0);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
