package io.patu.ota.internal;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A release directory as {@code patu ota pack} wrote it, read in place. */
final class DirectorySource implements ReleaseSource {
    private final Path directory;

    DirectorySource(Path directory) {
        this.directory = directory;
    }

    @Override
    public Opened open(String name, long offset) throws IOException {
        FileChannel channel = FileChannel.open(directory.resolve(name), StandardOpenOption.READ);
        channel.position(offset);
        return new Opened(Channels.newInputStream(channel), offset);
    }

    @Override
    public String describe() {
        return directory.toString();
    }
}
