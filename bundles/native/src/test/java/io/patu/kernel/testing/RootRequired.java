package io.patu.kernel.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The condition behind {@link KernelTest}. */
public final class RootRequired implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        int uid = currentUid();
        if (uid == 0) {
            return ConditionEvaluationResult.enabled("running as root");
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            // A thrown exception fails the test instead of skipping it.
            throw new IllegalStateException("kernel tests must run as root on CI (CI=true), but uid is " + uid);
        }
        return ConditionEvaluationResult.disabled("kernel test skipped: needs root, uid is " + uid);
    }

    private static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }
}
