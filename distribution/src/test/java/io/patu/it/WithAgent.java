package io.patu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import io.patu.kernel.testing.KernelTest;

/**
 * A test that runs one assembled agent of its own per test method, and proves afterwards that closing it
 * left no kernel object or file behind.
 */
@KernelTest
abstract class WithAgent {
    protected AgentUnderTest agent;

    @BeforeEach
    void startAgent() throws Exception {
        agent = new AgentUnderTest();
    }

    @AfterEach
    void removeEverything() throws Exception {
        if (agent != null) {
            agent.close();
            assertEquals(Optional.empty(), agent.leftovers(), "kernel objects or files left behind");
        }
    }
}
