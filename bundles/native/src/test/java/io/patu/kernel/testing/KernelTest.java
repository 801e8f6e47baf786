package io.patu.kernel.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks tests that change real kernel state and therefore need root: skipped for other users on a
 * developer machine, failed loudly on CI (env CI=true), where a silent skip would hide that nothing
 * was tested.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RootRequired.class)
public @interface KernelTest {
}
