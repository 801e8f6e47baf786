package io.patu.lifecycle.internal;

import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.patu.api.metrics.Labels;
import io.patu.api.metrics.MetricFamily;
import io.patu.api.metrics.MetricType;
import io.patu.api.metrics.MetricsSource;
import io.patu.api.metrics.Sample;

/** The lifecycle's metrics: CNI calls, pods, and the state of every feature. */
@Component(service = MetricsSource.class, property = MetricsSource.NAME + "=lifecycle")
public final class LifecycleMetrics implements MetricsSource {
    private final PodLifecycle lifecycle;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile FeatureManager features;

    @Activate
    public LifecycleMetrics(@Reference PodLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public List<MetricFamily> collect() {
        List<MetricFamily> families = new ArrayList<>(lifecycle.cniCalls().families());
        FeatureManager manager = features;
        if (manager != null) {
            families.addAll(featureFamilies(manager.list()));
        }
        return families;
    }

    static List<MetricFamily> featureFamilies(List<FeatureManager.Feature> features) {
        List<Sample> active = new ArrayList<>();
        List<Sample> disabled = new ArrayList<>();
        for (FeatureManager.Feature feature : features) {
            Labels labels = Labels.of("feature", feature.name());
            active.add(new Sample.Value(labels, feature.state() == FeatureManager.State.ACTIVE ? 1 : 0));
            // NOT_INSTALLED is a disabled feature that no installed bundle provides.
            boolean off = feature.state() == FeatureManager.State.DISABLED || feature.state() == FeatureManager.State.NOT_INSTALLED;
            disabled.add(new Sample.Value(labels, off ? 1 : 0));
        }
        return List.of(
                new MetricFamily("patu_feature_active", MetricType.GAUGE,
                        "1 while the feature's bundle is active, 0 when it is disabled, stopped or not installed", active),
                new MetricFamily("patu_feature_disabled", MetricType.GAUGE,
                        "1 when the feature is disabled (patu:disable, remembered across restarts), 0 otherwise", disabled));
    }
}
