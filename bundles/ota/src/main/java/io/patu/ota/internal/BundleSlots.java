package io.patu.ota.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;

/**
 * The agent's bundles by slot: the profile name a bundle's jar is installed under ({@code bundle/NAME-VERSION.jar},
 * {@code store/NAME-VERSION-SHA.jar}), which the state file and the launcher use; which of them a running agent
 * can swap; and the jar a slot falls back to.
 */
final class BundleSlots {
    private static final Pattern SLOT = Pattern.compile("(.+?)-[0-9].*\\.jar");

    private final BundleContext context;

    BundleSlots(BundleContext context) {
        this.context = context;
    }

    static String slotOf(Bundle bundle) {
        String location = bundle.getLocation();
        String name = location.substring(location.lastIndexOf('/') + 1);
        Matcher m = SLOT.matcher(name);
        return m.matches() ? m.group(1) : null;
    }

    Bundle named(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (symbolicName.equals(bundle.getSymbolicName())) {
                return bundle;
            }
        }
        return null;
    }

    Bundle inSlot(String slot) {
        for (Bundle bundle : context.getBundles()) {
            if (slot.equals(slotOf(bundle))) {
                return bundle;
            }
        }
        return null;
    }

    /** Whether swapping these bundles needs a new JVM: the framework, this bundle, or one whose packages others use. */
    boolean needRestart(Iterable<Bundle> bundles) {
        for (Bundle bundle : bundles) {
            if (bundle.getBundleId() == 0 || bundle.equals(context.getBundle())) {
                return true;
            }
            BundleWiring wiring = bundle.adapt(BundleWiring.class);
            if (wiring == null) {
                continue;
            }
            for (BundleWire wire : wiring.getProvidedWires(null)) {
                if (!wire.getRequirer().getBundle().equals(bundle)
                        && !"osgi.extender".equals(wire.getCapability().getNamespace())
                        && !"osgi.service".equals(wire.getCapability().getNamespace())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The jar a slot returns to: its committed one, else the one the distribution shipped. */
    Path fallbackJar(OtaState state, String slot) throws IOException {
        String current = state.current().get(slot);
        if (current != null && Files.isRegularFile(Path.of(current))) {
            return Path.of(current);
        }
        String home = context.getProperty("patu.home");
        if (home == null) {
            throw new IOException("patu.home is not set: the shipped jar of " + slot + " cannot be found");
        }
        Path shipped = null;
        try (Stream<Path> jars = Files.list(Path.of(home, "bundle"))) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                String name = jar.getFileName().toString();
                Matcher m = SLOT.matcher(name);
                if (m.matches() && m.group(1).equals(slot) && (shipped == null || name.compareTo(shipped.getFileName().toString()) > 0)) {
                    shipped = jar;
                }
            }
        }
        if (shipped == null) {
            throw new IOException("no jar of " + slot + " in " + home + "/bundle");
        }
        return shipped;
    }
}
