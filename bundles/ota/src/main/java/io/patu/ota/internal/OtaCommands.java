package io.patu.ota.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.patu.api.Commands;
import io.patu.api.TextTable;

/** {@code patu:ota status|check|install|rollback|history}: the operator's view of over-the-air updates. */
@Component(service = OtaCommands.class,
        property = {Commands.SCOPE_PROPERTY + "=" + Commands.SCOPE, Commands.FUNCTION_PROPERTY + "=ota"})
public final class OtaCommands {
    static final String USAGE = "usage: patu:ota status|check|install|rollback|history";
    private final BundleContext context;
    private final UpdateManager updates;

    @Activate
    public OtaCommands(BundleContext context, @Reference UpdateManager updates) {
        this.context = context;
        this.updates = updates;
    }

    public String ota() throws IOException {
        return status() + "\n" + USAGE;
    }

    public String ota(String action) throws IOException {
        return switch (action) {
            case "status" -> status();
            case "check" -> result(updates.check());
            case "install" -> result(updates.installFromCommand());
            case "rollback" -> result(updates.rollbackFromCommand());
            case "history" -> history();
            default -> throw new IllegalArgumentException("unknown action '" + action + "'; " + USAGE);
        };
    }

    /** A refusal is an error of the command, so 'patu shell' exits non-zero. */
    private static String result(UpdateManager.Outcome outcome) {
        if (!outcome.ok()) {
            throw new IllegalStateException(outcome.message());
        }
        return outcome.message();
    }

    String status() throws IOException {
        OtaState state = OtaState.read(updates.directory());
        StringBuilder out = new StringBuilder();
        out.append("release: ").append(state.committed() == 0 ? "as shipped (no release installed)" : state.committed()).append('\n');
        if (state.onTrial() && state.attempts() == 0) {
            out.append("staged: release ").append(state.trial()).append(", starts on trial with the next agent start\n");
        } else if (state.onTrial()) {
            out.append("on trial: release ").append(state.trial()).append(", start ").append(state.attempts())
                    .append(" of at most ").append(updates.config().maxAttempts()).append('\n');
        }
        if (updates.busy()) {
            out.append("an update is in progress\n");
        }
        String source = updates.config().source();
        out.append("source: ").append(source.isBlank() ? "none configured" : source);
        if (!source.isBlank() && updates.config().pollSeconds() > 0) {
            out.append(", polled every ").append(updates.config().pollSeconds()).append(" s; last poll: ").append(updates.lastPoll());
        }
        out.append('\n');
        List<List<String>> rows = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            String slot = BundleSlots.slotOf(bundle);
            if (slot == null || !slot.equals(slot.toLowerCase()) || bundle.getSymbolicName() == null
                    || !bundle.getSymbolicName().startsWith("io.patu.")) {
                continue;
            }
            rows.add(List.of(slot, bundle.getVersion().toString(), origin(state, slot, bundle)));
        }
        out.append(new TextTable(List.of("BUNDLE", "VERSION", "JAR"), rows).render().stripTrailing());
        return out.toString();
    }

    private static String origin(OtaState state, String slot, Bundle bundle) {
        String location = bundle.getLocation();
        for (Map.Entry<String, String> trial : state.candidates().entrySet()) {
            if (trial.getKey().equals(slot) && location.equals("file:" + trial.getValue())) {
                return "on trial (" + location.substring(location.lastIndexOf('/') + 1) + ")";
            }
        }
        String current = state.current().get(slot);
        return current != null ? "release (" + current.substring(current.lastIndexOf('/') + 1) + ")" : "shipped";
    }

    String history() throws IOException {
        List<OtaHistory.Entry> entries = updates.history().read();
        if (entries.isEmpty()) {
            return "no update yet";
        }
        List<List<String>> rows = new ArrayList<>();
        for (OtaHistory.Entry e : entries) {
            rows.add(List.of(e.time().toString(), e.release() == 0 ? "-" : Long.toString(e.release()), e.outcome(), e.detail()));
        }
        return new TextTable(List.of("TIME", "RELEASE", "OUTCOME", "DETAIL"), rows).render().stripTrailing();
    }
}
