package io.patu.kernel.bpf;

import io.patu.kernel.testing.Commands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Compiles src/test/bpf/native_test.bpf.c once per test run and hands out its bytes. */
final class BpfFixture {
    private static final Path SOURCE = Path.of("src/test/bpf/native_test.bpf.c");
    private static final Path OBJECT = Path.of("target/test-bpf/native_test.bpf.o");
    private static byte[] elf;

    private BpfFixture() {
    }

    static synchronized byte[] elf() {
        if (elf == null) {
            try {
                Files.createDirectories(OBJECT.getParent());
                Commands.check("clang", "-target", "bpf", "-O2", "-g", "-Wall", "-Werror",
                        "-I/usr/include/x86_64-linux-gnu", "-c", SOURCE.toString(), "-o", OBJECT.toString());
                elf = Files.readAllBytes(OBJECT);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return elf.clone();
    }
}
