package io.patu.datapath.xdp.internal;

import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.HealthCheck;

/**
 * The xdp feature's health: its maps and links pinned, each link running this datapath's program, and the
 * ingress configuration in force. Registered only while the datapath is up, so a datapath that failed to
 * start has no check, which readiness reports.
 */
@Component(service = HealthCheck.class, property = HealthCheck.NAME + "=" + XdpDatapath.FEATURE)
public final class XdpHealth implements HealthCheck {
    private final XdpDatapath datapath;

    @Activate
    public XdpHealth(@Reference XdpDatapath datapath) {
        this.datapath = datapath;
    }

    @Override
    public List<String> problems() {
        return datapath.problems();
    }
}
