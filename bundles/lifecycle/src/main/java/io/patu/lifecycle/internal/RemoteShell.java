package io.patu.lifecycle.internal;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The shell's route on the agent socket: {@link ShellRequest} frames, answered by the
 * {@link ShellExecutor} if the agent has one. Answers and errors are plain text for a person.
 */
final class RemoteShell {
    static final String NO_SHELL = "this agent has no Gogo shell runtime: install and start the bundles"
            + " org.apache.felix.gogo.runtime (and org.apache.felix.gogo.command for lb, start, stop)";

    private RemoteShell() {
    }

    /** Shell commands run on their own executor: one may start a feature, whose replay needs the CNI worker. */
    static RequestRoute route(Supplier<ShellExecutor> shell, Executor executor) {
        return new RequestRoute(ShellRequest.MAGIC, ShellRequest::totalLength, bytes -> answer(shell, bytes),
                RemoteShell::rejected, executor);
    }

    static WireResponse answer(Supplier<ShellExecutor> shell, byte[] bytes) {
        ShellRequest request;
        try {
            request = ShellRequest.decode(bytes);
        } catch (RuntimeException e) {
            return rejected(e);
        }
        ShellExecutor executor = shell.get();
        if (executor == null) {
            return text(1, NO_SHELL);
        }
        return executor.execute(request.commandLine());
    }

    static WireResponse rejected(RuntimeException e) {
        return text(1, "bad shell request: " + e.getMessage()
                + " (send \"PATUSH1\\0\", the command line's length in decimal, \"\\n\", the command line; patu --shell does)");
    }

    private static WireResponse text(int status, String line) {
        return new WireResponse(status, (line + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
