package io.patu.datapath.sockmap.internal;

import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.HealthCheck;

/**
 * The sockmap feature's health: its programs attached and its maps pinned and readable
 * ({@link SockmapKernelState#problems()}). Registered only while the datapath is up, so a datapath that
 * failed to attach has no check, which readiness reports.
 */
@Component(service = HealthCheck.class, property = HealthCheck.NAME + "=" + SockmapDatapath.FEATURE)
public final class SockmapHealth implements HealthCheck {
    private final SockmapDatapath datapath;

    @Activate
    public SockmapHealth(@Reference SockmapDatapath datapath) {
        this.datapath = datapath;
    }

    @Override
    public List<String> problems() {
        return datapath.kernelProblems();
    }
}
