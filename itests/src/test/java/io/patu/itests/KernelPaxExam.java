package io.patu.itests;

import org.junit.runner.Description;
import org.junit.runner.Runner;
import org.junit.runner.manipulation.Filter;
import org.junit.runner.manipulation.Filterable;
import org.junit.runner.manipulation.NoTestsRemainException;
import org.junit.runner.manipulation.Sortable;
import org.junit.runner.manipulation.Sorter;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunNotifier;
import org.junit.runners.model.InitializationError;
import org.ops4j.pax.exam.junit.PaxExam;

/**
 * {@link PaxExam} for tests that change the kernel: decides in the driver, before any container starts,
 * whether they can run. Not root: the class is skipped, or fails when {@code CI=true} (a CI job that
 * silently skips its kernel tests proves nothing). The decision cannot be left to an {@code Assume} in
 * the probe: Pax Exam reports a test whose assumption failed inside the container as passed.
 *
 * <p>After the class, it also removes what the fixture left on the host if the container failed before
 * the probe's own cleanup could run.
 */
public final class KernelPaxExam extends Runner implements Filterable, Sortable {
    private final Class<?> testClass;
    private final PaxExam delegate; // null when the tests cannot run here

    public KernelPaxExam(Class<?> testClass) throws InitializationError {
        this.testClass = testClass;
        if (!KernelFixture.isRoot()) {
            this.delegate = null;
            return;
        }
        try {
            this.delegate = new PaxExam(testClass); // runs the @Configuration method, which creates the fixture
        } catch (InitializationError | RuntimeException e) {
            removeLeftovers(e);
            throw e;
        }
    }

    @Override
    public Description getDescription() {
        return delegate != null ? delegate.getDescription() : Description.createSuiteDescription(testClass);
    }

    @Override
    public void run(RunNotifier notifier) {
        if (delegate == null) {
            if ("true".equals(System.getenv("CI"))) {
                notifier.fireTestFailure(new Failure(getDescription(),
                        new AssertionError("CI=true but not root: the kernel tests of " + testClass.getSimpleName()
                                + " cannot run; run the build as root")));
            } else {
                notifier.fireTestIgnored(getDescription()); // skipped: BPF and cgroups need root
            }
            return;
        }
        try {
            delegate.run(notifier);
        } finally {
            try {
                KernelFixture.removeLeftovers();
            } catch (Exception e) {
                notifier.fireTestFailure(new Failure(getDescription(), e));
            }
        }
    }

    private static void removeLeftovers(Throwable cause) {
        try {
            KernelFixture.removeLeftovers();
        } catch (Exception e) {
            cause.addSuppressed(e);
        }
    }

    @Override
    public void filter(Filter filter) throws NoTestsRemainException {
        if (delegate != null) {
            delegate.filter(filter);
        }
    }

    @Override
    public void sort(Sorter sorter) {
        if (delegate != null) {
            delegate.sort(sorter);
        }
    }
}
