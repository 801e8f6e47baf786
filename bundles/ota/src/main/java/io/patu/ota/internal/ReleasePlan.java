package io.patu.ota.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Bundle;

/** Which installed bundle each artifact of a release replaces; a bundle this device does not run is refused. */
record ReleasePlan(ReleaseManifest release, Map<Artifact, Bundle> bundles) {

    static ReleasePlan of(ReleaseManifest release, BundleSlots slots) throws ReleaseRefusedException {
        Map<Artifact, Bundle> plan = new LinkedHashMap<>();
        for (Artifact artifact : release.artifacts()) {
            Bundle bundle = slots.named(artifact.bundle());
            if (bundle == null) {
                throw new ReleaseRefusedException("release " + release.sequence() + " updates bundle " + artifact.bundle()
                        + ", which this agent does not run");
            }
            if (BundleSlots.slotOf(bundle) == null) {
                throw new ReleaseRefusedException(artifact.bundle() + " was installed from " + bundle.getLocation()
                        + ", not from a jar of the distribution: it cannot be updated over the air");
            }
            plan.put(artifact, bundle);
        }
        return new ReleasePlan(release, plan);
    }

    /** The slot each artifact goes to. */
    Map<Artifact, String> slots() {
        Map<Artifact, String> slots = new LinkedHashMap<>();
        bundles.forEach((artifact, bundle) -> slots.put(artifact, BundleSlots.slotOf(bundle)));
        return slots;
    }

    /** Each bundle with the staged jar (by slot) it is to run. */
    Map<Bundle, Path> candidates(Map<String, Path> staged) {
        Map<Bundle, Path> candidates = new LinkedHashMap<>();
        bundles.forEach((artifact, bundle) -> candidates.put(bundle, staged.get(BundleSlots.slotOf(bundle))));
        return candidates;
    }

    String describe() {
        List<String> parts = new ArrayList<>();
        bundles.forEach((artifact, bundle) -> parts.add(artifact.bundle() + " " + bundle.getVersion() + " -> " + artifact.version()));
        return String.join(", ", parts);
    }
}
