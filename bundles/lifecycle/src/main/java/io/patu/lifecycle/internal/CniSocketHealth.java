package io.patu.lifecycle.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.HealthCheck;

/**
 * The lifecycle's health: the CNI socket is served. The file is still there, is still the socket this
 * agent bound (not removed, nor replaced by another process's), and a connection to it is accepted, which
 * is what the CNI executable needs. Registered only while {@link PodLifecycle} runs, so a lifecycle whose
 * socket could not be bound has no check, which readiness reports.
 */
@Component(service = HealthCheck.class, property = HealthCheck.NAME + "=" + CniSocketHealth.NAME)
public final class CniSocketHealth implements HealthCheck {
    static final String NAME = "lifecycle";

    private final Path socket;
    /** The socket file's identity (device and inode) when this check started. */
    private final Object boundFile;

    @Activate
    public CniSocketHealth(@Reference PodLifecycle lifecycle) {
        this.socket = lifecycle.socketPath();
        this.boundFile = fileKey(socket);
    }

    @Override
    public List<String> problems() {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return List.of("the CNI socket " + socket + " is gone: the CNI plugin cannot reach the agent (restart the agent)");
        }
        Object now = fileKey(socket);
        if (boundFile != null && !Objects.equals(boundFile, now)) {
            return List.of(socket + " is no longer the socket this agent serves: something replaced it (restart the agent)");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return List.of("the CNI socket " + socket + " does not accept connections: " + e.getMessage());
        }
        return List.of();
    }

    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }
}
