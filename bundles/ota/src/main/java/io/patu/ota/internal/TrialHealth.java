package io.patu.ota.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import io.patu.api.HealthCheck;

/**
 * Whether the bundles on trial work, asked again and again over the health window: each is active, each of
 * its enabled DS components is satisfied (none waits for a reference or configuration, none failed to
 * activate), the framework reported no error since the trial began, every {@link HealthCheck} service says
 * nothing is wrong, and no check that was registered before the update has gone.
 */
final class TrialHealth implements AutoCloseable {
    private final BundleContext context;
    private final ServiceComponentRuntime scr;
    private final Collection<Bundle> bundles;
    private final Set<String> checksBefore;
    private final List<String> frameworkErrors = new CopyOnWriteArrayList<>();
    private final FrameworkListener listener = this::onFrameworkEvent;

    TrialHealth(BundleContext context, ServiceComponentRuntime scr, Collection<Bundle> bundles, Set<String> checksBefore) {
        this.context = context;
        this.scr = scr;
        this.bundles = List.copyOf(bundles);
        this.checksBefore = Set.copyOf(checksBefore);
        context.addFrameworkListener(listener);
    }

    private void onFrameworkEvent(FrameworkEvent event) {
        if (event.getType() == FrameworkEvent.ERROR) {
            Throwable t = event.getThrowable();
            frameworkErrors.add("framework error from " + event.getBundle().getSymbolicName() + ": "
                    + (t == null ? "(no exception)" : rootMessage(t)));
        }
    }

    List<String> problems() {
        List<String> problems = new ArrayList<>(frameworkErrors);
        for (Bundle bundle : bundles) {
            if (bundle.getState() != Bundle.ACTIVE) {
                problems.add(bundle.getSymbolicName() + " is not active (state " + stateName(bundle.getState()) + ")");
                continue;
            }
            for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs(bundle)) {
                if (!scr.isComponentEnabled(description)) {
                    continue;
                }
                for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                    String why = switch (configuration.state) {
                        case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> "waits for its configuration";
                        case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> "waits for a service it references";
                        case ComponentConfigurationDTO.FAILED_ACTIVATION -> "failed to activate: " + configuration.failure;
                        default -> null;
                    };
                    if (why != null) {
                        problems.add("component " + description.name + " of " + bundle.getSymbolicName() + " " + why);
                    }
                }
            }
        }
        problems.addAll(healthCheckProblems(context, checksBefore));
        return problems;
    }

    /** The names of the registered health checks: what must still be there during a trial. */
    static Set<String> checkNames(BundleContext context) {
        Set<String> names = new TreeSet<>();
        for (ServiceReference<HealthCheck> ref : references(context)) {
            names.add(nameOf(ref));
        }
        return names;
    }

    private static List<String> healthCheckProblems(BundleContext context, Set<String> expected) {
        List<String> problems = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (ServiceReference<HealthCheck> ref : references(context)) {
            String name = nameOf(ref);
            seen.add(name);
            HealthCheck check = context.getService(ref);
            if (check == null) {
                continue;
            }
            try {
                for (String problem : check.problems()) {
                    problems.add(name + ": " + problem);
                }
            } catch (RuntimeException e) {
                problems.add(name + ": the check threw " + rootMessage(e));
            } finally {
                context.ungetService(ref);
            }
        }
        for (String name : expected) {
            if (!seen.contains(name)) {
                problems.add("health check " + name + " is no longer registered");
            }
        }
        return problems;
    }

    private static Collection<ServiceReference<HealthCheck>> references(BundleContext context) {
        try {
            return context.getServiceReferences(HealthCheck.class, null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String nameOf(ServiceReference<?> ref) {
        Object name = ref.getProperty(HealthCheck.NAME);
        return name != null ? name.toString() : ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName();
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.INSTALLED -> "installed";
            case Bundle.RESOLVED -> "resolved";
            case Bundle.STARTING -> "starting";
            case Bundle.STOPPING -> "stopping";
            case Bundle.ACTIVE -> "active";
            default -> "uninstalled";
        };
    }

    @Override
    public void close() {
        context.removeFrameworkListener(listener);
    }
}
