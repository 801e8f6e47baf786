package io.patu.kernel.netns;

import io.patu.kernel.Errno;
import io.patu.kernel.NativeException;
import io.patu.kernel.fs.Mounts;
import io.patu.kernel.internal.Libc;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * Network namespaces. setns(2) and unshare(2) switch only the calling thread, so every switch
 * happens on a fresh platform thread that ends afterwards: no pooled thread (and never a virtual
 * thread's carrier) is ever left in a foreign namespace.
 */
public final class NetNs {
    /** Where iproute2 keeps named namespaces; {@link #create} follows the same convention. */
    public static final Path NAMED_NETNS_DIR = Path.of("/run/netns");

    private static final long NS_GET_NSTYPE = 0xb703L;

    /** statfs f_type of nsfs, the filesystem of namespace files (linux/magic.h). */

    private static final long NSFS_MAGIC = 0x6e736673L;
    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private NetNs() {
    }

    /**
     * Whether {@code path} is a network namespace handle (/proc/PID/ns/net, a bind mount of one).
     * Never throws: anything else, including missing files, directories and unreadable paths, is
     * simply not a network namespace.
     */
    public static boolean isNetworkNamespace(Path path) {
        // Look before opening: statfs opens nothing, so a FIFO cannot block here and a device file is never
        // opened (opening some devices has effects). Non-blocking open guards the gap between the two.
        if (!Mounts.isFsType(path, NSFS_MAGIC)) {
            return false;
        }
        int fd;
        try {
            fd = Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_NONBLOCK, 0);
        } catch (RuntimeException e) {
            return false;
        }
        try {
            return Libc.ioctl(fd, NS_GET_NSTYPE, 0, "ioctl(NS_GET_NSTYPE)") == Libc.CLONE_NEWNET;
        } catch (NativeException e) {
            return false; // ENOTTY: not a namespace file
        } finally {
            Libc.closeQuietly(fd);
        }
    }

    /**
     * Runs {@code action} inside the network namespace {@code netns} on a new platform thread and
     * waits for it. Whatever {@code action} throws is rethrown unchanged; sockets it creates stay
     * bound to that namespace after the thread ends.
     */
    public static <T> T callIn(Path netns, Callable<T> action) throws Exception {
        if (!isNetworkNamespace(netns)) {
            throw new NativeException("setns(" + netns + ")", Errno.EINVAL, "not a network namespace");
        }
        return onFreshThread("netns-" + netns.getFileName(), () -> {
            int fd = Libc.open(netns.toString(), Libc.O_RDONLY, 0);
            try {
                Libc.setns(fd, Libc.CLONE_NEWNET);
            } finally {
                Libc.closeQuietly(fd);
            }
            return action.call();
        });
    }

    /**
     * Creates the named namespace /run/netns/{@code name}, as {@code ip netns add} does: a thread
     * unshares its network namespace and that namespace is bind-mounted onto the name, which keeps it
     * alive after the thread is gone. Fails with EEXIST if the name is taken.
     */
    public static Path create(String name) {
        Path handle = pathOf(name);
        ensureSharedNetnsDir();
        int fd = Libc.open(handle.toString(), Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL, 0);
        Libc.closeQuietly(fd);
        try {
            onFreshThread("netns-create-" + name, () -> {
                Libc.unshare(Libc.CLONE_NEWNET);
                Mounts.mount("/proc/thread-self/ns/net", handle, "none", Mounts.MS_BIND, null);
                return null;
            });
        } catch (Exception e) {
            Libc.unlink(handle.toString());
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
        return handle;
    }

    /**
     * Deletes the named namespace, as {@code ip netns del} does: unmounts and removes its handle.
     * The kernel frees the namespace once no process or open descriptor uses it. Returns false if
     * there was no such name.
     */
    public static boolean delete(String name) {
        Path handle = pathOf(name);
        try {
            Mounts.umount(handle, Mounts.MNT_DETACH);
        } catch (NativeException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            if (e.errno() != Errno.EINVAL) { // EINVAL: the file is there but not mounted
                throw e;
            }
        }
        try {
            Libc.unlink(handle.toString());
        } catch (NativeException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
        return true;
    }

    /** The handle path of named namespace {@code name}. */
    public static Path pathOf(String name) {
        if (!VALID_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("invalid network namespace name: '" + name + "'");
        }
        return NAMED_NETNS_DIR.resolve(name);
    }

    /**
     * Makes /run/netns a shared mount point, as iproute2 does, so a namespace mounted there is seen
     * (and unmounted) in every mount namespace that shares it. If it is not a mount point yet, it is
     * bind-mounted onto itself first.
     */
    private static synchronized void ensureSharedNetnsDir() {
        try {
            Libc.mkdir(NAMED_NETNS_DIR.toString(), 0755);
        } catch (NativeException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
        }
        try {
            Mounts.mount("none", NAMED_NETNS_DIR, "none", Mounts.MS_SHARED | Mounts.MS_REC, null);
        } catch (NativeException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            Mounts.mount(NAMED_NETNS_DIR.toString(), NAMED_NETNS_DIR, "none", Mounts.MS_BIND | Mounts.MS_REC, null);
            Mounts.mount("none", NAMED_NETNS_DIR, "none", Mounts.MS_SHARED | Mounts.MS_REC, null);
        }
    }

    private static <T> T onFreshThread(String name, Callable<T> action) throws Exception {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread thread = Thread.ofPlatform().name(name).unstarted(() -> {
            try {
                result[0] = action.call();
            } catch (Throwable t) {
                failure[0] = t;
            }
        });
        thread.start();
        thread.join();
        Throwable t = failure[0];
        if (t instanceof Exception e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return value;
    }
}
