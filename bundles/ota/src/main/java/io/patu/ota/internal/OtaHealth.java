package io.patu.ota.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.HealthCheck;

/**
 * The ota feature's health: its update manager is running and its state directory (the bundle store, the
 * state file the launcher reads, the history) can take an update. Registered only while the manager is up,
 * so an ota feature whose manager failed to start has no check, which readiness reports.
 */
@Component(service = HealthCheck.class, property = HealthCheck.NAME + "=ota")
public final class OtaHealth implements HealthCheck {
    private final UpdateManager manager;

    @Activate
    public OtaHealth(@Reference UpdateManager manager) {
        this.manager = manager;
    }

    @Override
    public List<String> problems() {
        Path directory = manager.directory();
        if (!Files.isDirectory(directory) || !Files.isWritable(directory)) {
            return List.of("the OTA state directory " + directory + " is missing or not writable: no update can be staged");
        }
        return List.of();
    }
}
