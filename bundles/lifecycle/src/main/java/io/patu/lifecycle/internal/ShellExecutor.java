package io.patu.lifecycle.internal;

/**
 * Runs one command line of the agent's shell and captures what it printed. A service inside the lifecycle
 * bundle, registered only while a Gogo runtime is there (see {@link GogoShell}), so nothing else in the
 * bundle loads a Gogo class.
 */
public interface ShellExecutor {
    /** Exit status 0 when the command succeeded, 1 when it threw; the output is the session's text. */
    WireResponse execute(String commandLine);
}
