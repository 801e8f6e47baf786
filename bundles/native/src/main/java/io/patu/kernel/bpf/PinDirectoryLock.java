package io.patu.kernel.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Makes one live agent the owner of a pin directory. The datapath takes over whatever is pinned there (that
 * is how a restarted agent keeps redirected connections), so a second agent configured with the same
 * directory would adopt the first one's objects, and remove them when it stops. bpffs holds no regular
 * files, so the lock lives under /run, keyed by the directory's path; the kernel drops it when the owner
 * dies, so a crashed agent never blocks the next one. Every datapath feature that pins objects takes one
 * for its own directory.
 */
public final class PinDirectoryLock implements AutoCloseable {
    private static final Path LOCK_DIR = Path.of("/run/patu/locks");

    private final FileChannel channel;
    private final FileLock lock;

    private PinDirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    public static PinDirectoryLock acquire(Path pinDir) {
        Path file = LOCK_DIR.resolve("pins-" + digest(pinDir.toAbsolutePath().normalize().toString()) + ".lock");
        try {
            Files.createDirectories(LOCK_DIR);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.READ);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                String owner = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                channel.close();
                throw new IllegalStateException("pin directory " + pinDir + " belongs to another running Patu agent ("
                        + owner + "); give this agent its own bpffsDir, or stop the other one");
            }
            channel.truncate(0);
            channel.write(java.nio.ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", " + pinDir)
                    .getBytes(StandardCharsets.UTF_8)));
            return new PinDirectoryLock(channel, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock pin directory " + pinDir + " through " + file, e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // Closing the channel releases the lock in any case.
        }
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
