package io.patu.lifecycle.internal;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The agent's shell for remote callers: each command line gets a fresh Gogo session with no input, whose
 * output and error go to one buffer. Every command the framework has is there: Patu's, and Felix's own
 * ({@code lb}, {@code start}, {@code stop}, ...) when gogo.command is installed.
 */
@Component(service = ShellExecutor.class)
public final class GogoShell implements ShellExecutor {
    private final CommandProcessor processor;

    @Activate
    public GogoShell(@Reference CommandProcessor processor) {
        this.processor = processor;
    }

    @Override
    public WireResponse execute(String commandLine) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int status = 0;
        try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
             CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out)) {
            try {
                Object result = session.execute(commandLine);
                // As the console does: a command's return value is printed, formatted by Gogo.
                if (result != null) {
                    out.println(session.format(result, Converter.INSPECT));
                }
            } catch (Exception e) {
                status = 1;
                out.println(e.getMessage() != null ? e.getMessage() : e.toString());
            }
        }
        return new WireResponse(status, buffer.toByteArray());
    }
}
