package io.patu.policy.internal;

import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.HealthCheck;

/**
 * The policy feature's health: its maps pinned, each pod veth's hooks running this feature's programs, and
 * a policy generation in force. Registered only while the datapath is up, so a policy datapath that failed
 * to start has no check, which readiness reports.
 */
@Component(service = HealthCheck.class, property = HealthCheck.NAME + "=" + PolicyDatapath.FEATURE)
public final class PolicyHealth implements HealthCheck {
    private final PolicyDatapath datapath;

    @Activate
    public PolicyHealth(@Reference PolicyDatapath datapath) {
        this.datapath = datapath;
    }

    @Override
    public List<String> problems() {
        return datapath.problems();
    }
}
