package io.patu.policy.internal;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.patu.api.NamespaceMetadata;
import io.patu.api.PodMetadata;

/**
 * The policy directory: every {@code *.yaml}, {@code *.yml} and {@code *.json} file in it (not below it),
 * read whole and watched. A change (create, write, delete, rename in or out) is picked up by a
 * {@link WatchService} and applied after a short quiet period, well within a second. A file that does not
 * parse keeps its previous content in force; an invalid object keeps its previous version from the same
 * file, if there was one. A directory that does not exist yet is waited for.
 */
final class PolicyDirectory implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PolicyDirectory.class.getName());
    /** Editors and `cp` write in several steps: wait until events stop for this long. */
    static final long QUIET_MILLIS = 50;
    /**
     * A burst of only creations and removals (a file renamed into the directory or out of it, the way to
     * change a policy atomically) is whole at once: wait only this long for the rest of the burst. A file
     * created and then written (`cp`, an editor) shows a modification within microseconds of its creation,
     * which switches the wait to {@link #QUIET_MILLIS}.
     */
    static final long RENAME_QUIET_MILLIS = 5;
    static final int MAX_FILES = 1000;

    private final Path directory;
    private final Consumer<DirectoryContent> onChange;
    private final Map<String, FileContent> inForce = new TreeMap<>();
    private final Map<String, Problem> fileProblems = new TreeMap<>();
    /** Digest of each file's bytes when last read: an unchanged file is not parsed again (parsing is the cost). */
    private final Map<String, String> digests = new HashMap<>();
    /**
     * Size, modification time and inode of each file when last read, if it was last modified well before:
     * a file with the same stamp is not read again (renaming a file in gives it another inode).
     */
    private final Map<String, Stamp> stamps = new HashMap<>();

    private record Stamp(long size, long modifiedMicros, Object fileKey) {
    }

    /** The documents of each YAML file as last read: a changed file parses only its changed documents. */
    private final Map<String, Map<String, PolicyFiles.Chunk>> chunks = new HashMap<>();
    private final Thread thread;
    /** Files parsed since start (a counter: the difference over a rescan is what it parsed). */
    private int parsed;
    private volatile WatchService watcher;
    private volatile boolean closed;
    private DirectoryContent current = DirectoryContent.EMPTY;
    private volatile Timing timing = new Timing(0, 0, 0, 0);

    /**
     * How the last change was picked up, for the agent's log and {@code bench/policy-update.sh}.
     *
     * @param eventAtMicros wall-clock time (epoch microseconds) the watcher woke up with the change's first event
     * @param quietNanos    the quiet period waited after it (further events of the same burst)
     * @param readNanos     listing, reading, digesting and parsing the files
     * @param parsed        files parsed again (the others were unchanged)
     */
    record Timing(long eventAtMicros, long quietNanos, long readNanos, int parsed) {
    }

    PolicyDirectory(Path directory, Consumer<DirectoryContent> onChange) {
        this.directory = directory;
        this.onChange = onChange;
        this.thread = new Thread(this::run, "patu-policy-dir");
        this.thread.setDaemon(true);
    }

    /** Reads the directory once (so the first content is in force when this returns), then watches it. */
    DirectoryContent start() {
        synchronized (this) {
            rescan();
        }
        thread.start();
        return current;
    }

    synchronized DirectoryContent current() {
        return current;
    }

    /** How the change being handed over (or the last one) was picked up; read by the consumer on this thread. */
    Timing timing() {
        return timing;
    }

    static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    private void run() {
        while (!closed) {
            try (WatchService service = FileSystems.getDefault().newWatchService()) {
                watcher = service;
                if (!Files.isDirectory(directory)) {
                    // Not there yet: look again shortly (a WatchService needs the directory to exist).
                    watcher = null;
                    TimeUnit.MILLISECONDS.sleep(250);
                    if (Files.isDirectory(directory)) {
                        changed(nowMicros(), 0);
                    }
                    continue;
                }
                WatchKey key = directory.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY);
                changed(nowMicros(), 0); // whatever happened between the last scan and the registration
                while (!closed) {
                    WatchKey ready = service.poll(1, TimeUnit.SECONDS);
                    if (ready == null) {
                        if (!key.isValid()) {
                            break; // the directory went away: wait for it again
                        }
                        continue;
                    }
                    long eventAt = nowMicros();
                    long quietFrom = System.nanoTime();
                    boolean writing = beingWritten(ready.pollEvents());
                    // Drain the burst: apply once the events stop for the quiet period, the long one as soon as
                    // a file is being written in place.
                    for (WatchKey more = service.poll(writing ? QUIET_MILLIS : RENAME_QUIET_MILLIS, TimeUnit.MILLISECONDS);
                         more != null; more = service.poll(writing ? QUIET_MILLIS : RENAME_QUIET_MILLIS, TimeUnit.MILLISECONDS)) {
                        writing |= beingWritten(more.pollEvents());
                        more.reset();
                    }
                    boolean valid = ready.reset();
                    changed(eventAt, System.nanoTime() - quietFrom);
                    if (!valid) {
                        break;
                    }
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "watching policy directory " + directory + " failed; retrying", e);
                try {
                    TimeUnit.SECONDS.sleep(1);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /** Whether some event says a file's content is being written (or events were lost): wait the long period. */
    private static boolean beingWritten(List<WatchEvent<?>> events) {
        for (WatchEvent<?> event : events) {
            if (event.kind() != StandardWatchEventKinds.ENTRY_CREATE && event.kind() != StandardWatchEventKinds.ENTRY_DELETE) {
                return true;
            }
        }
        return false;
    }

    private void changed(long eventAtMicros, long quietNanos) {
        DirectoryContent content;
        synchronized (this) {
            long started = System.nanoTime();
            int parsedBefore = parsed;
            if (!rescan()) {
                return;
            }
            timing = new Timing(eventAtMicros, quietNanos, System.nanoTime() - started, parsed - parsedBefore);
            content = current;
        }
        try {
            onChange.accept(content);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "applying the policy directory failed", e);
        }
    }

    /** Reads every file again; true when what is in force (or the problems) changed. */
    boolean rescan() {
        long started = System.nanoTime();
        Set<String> seen = new HashSet<>();
        Map<String, Problem> problems = new TreeMap<>();
        if (Files.isDirectory(directory)) {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, PolicyFiles::isPolicyFile)) {
                for (Path file : stream) {
                    files.add(file);
                }
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot list policy directory " + directory + "; keeping what is in force", e);
                return false;
            }
            files.sort(null);
            if (files.size() > MAX_FILES) {
                problems.put("", new Problem(directory.toString(), "", "", "holds " + files.size()
                        + " policy files; only the first " + MAX_FILES + " by name are read"));
                files = files.subList(0, MAX_FILES);
            }
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                seen.add(name);
                try {
                    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                    Stamp stamp = new Stamp(attributes.size(), attributes.lastModifiedTime().to(TimeUnit.MICROSECONDS),
                            attributes.fileKey());
                    if (stamp.equals(stamps.get(name)) && digests.containsKey(name)) {
                        Problem unchanged = fileProblems.get(name);
                        if (unchanged != null) {
                            problems.put(name, unchanged);
                        }
                        continue;
                    }
                    // A file modified less than a second before this read might be modified again within the
                    // same timestamp tick: its stamp is not trusted, next time it is read (and digested) again.
                    if (stamp.modifiedMicros() < PolicyDirectory.nowMicros() - 1_000_000L) {
                        stamps.put(name, stamp);
                    } else {
                        stamps.remove(name);
                    }
                    byte[] bytes = PolicyFiles.readBytes(file);
                    String digest = PolicyFiles.digest(bytes);
                    if (digest.equals(digests.get(name))) {
                        Problem unchanged = fileProblems.get(name);
                        if (unchanged != null) {
                            problems.put(name, unchanged);
                        }
                        continue;
                    }
                    digests.put(name, digest);
                    parsed++;
                    Map<String, PolicyFiles.Chunk> nextChunks = new HashMap<>();
                    FileContent read = PolicyFiles.parse(bytes, name, name.endsWith(".json"),
                            chunks.getOrDefault(name, Map.of()), nextChunks);
                    chunks.put(name, nextChunks);
                    inForce.put(name, keepPreviousOfRejected(read, inForce.get(name)));
                } catch (IOException | RuntimeException e) {
                    String message = e instanceof IOException ? e.getMessage() : "cannot be read: " + e;
                    boolean kept = inForce.containsKey(name);
                    problems.put(name, new Problem(name, "", "", message + (kept ? "; its previous content stays in force" : "")));
                }
            }
        }
        inForce.keySet().retainAll(seen);
        digests.keySet().retainAll(seen);
        chunks.keySet().retainAll(seen);
        stamps.keySet().retainAll(seen);
        DirectoryContent next = merge(problems, seen.size());
        boolean changed = !next.equals(current) || !problems.equals(fileProblems);
        fileProblems.clear();
        fileProblems.putAll(problems);
        if (changed) {
            current = next;
            long millis = (System.nanoTime() - started) / 1_000_000;
            LOG.info(() -> "policy directory " + directory + ": " + next.files() + " files, " + next.policies().size()
                    + " policies, " + next.problems().size() + " problems, read in " + millis + " ms");
        }
        return changed;
    }

    /** An object that is invalid now keeps the version the same file had before, when there was one. */
    private static FileContent keepPreviousOfRejected(FileContent read, FileContent previous) {
        if (previous == null || read.rejected().isEmpty()) {
            return read;
        }
        List<NetworkPolicy> policies = new ArrayList<>(read.policies());
        List<NamespaceMetadata> namespaces = new ArrayList<>(read.namespaces());
        List<PodMetadata> pods = new ArrayList<>(read.pods());
        List<Problem> problems = new ArrayList<>();
        for (Problem problem : read.problems()) {
            boolean kept = read.rejected().contains(problem.object()) && (
                    previous.policies().stream().anyMatch(p -> FileContent.identity("NetworkPolicy", p.namespace(), p.name()).equals(problem.object()))
                    || previous.namespaces().stream().anyMatch(n -> FileContent.identity("Namespace", null, n.name()).equals(problem.object()))
                    || previous.pods().stream().anyMatch(p -> FileContent.identity("Pod", p.namespace(), p.name()).equals(problem.object())));
            problems.add(kept ? new Problem(problem.file(), problem.object(), problem.field(),
                    problem.message() + "; its previous version stays in force") : problem);
        }
        for (String identity : read.rejected()) {
            previous.policies().stream().filter(p -> FileContent.identity("NetworkPolicy", p.namespace(), p.name()).equals(identity))
                    .forEach(policies::add);
            previous.namespaces().stream().filter(n -> FileContent.identity("Namespace", null, n.name()).equals(identity))
                    .forEach(namespaces::add);
            previous.pods().stream().filter(p -> FileContent.identity("Pod", p.namespace(), p.name()).equals(identity))
                    .forEach(pods::add);
        }
        return new FileContent(policies, namespaces, pods, problems, read.rejected());
    }

    /** All files together; an object defined twice is taken from the first file by name. */
    private DirectoryContent merge(Map<String, Problem> problems, int files) {
        List<NetworkPolicy> policies = new ArrayList<>();
        List<NamespaceMetadata> namespaces = new ArrayList<>();
        List<PodMetadata> pods = new ArrayList<>();
        List<Problem> all = new ArrayList<>(problems.values());
        Map<String, String> definedIn = new HashMap<>();
        for (Map.Entry<String, FileContent> entry : inForce.entrySet()) {
            String file = entry.getKey();
            FileContent content = entry.getValue();
            all.addAll(content.problems());
            for (NetworkPolicy policy : content.policies()) {
                if (first(definedIn, FileContent.identity("NetworkPolicy", policy.namespace(), policy.name()), file, all)) {
                    policies.add(policy);
                }
            }
            for (NamespaceMetadata namespace : content.namespaces()) {
                if (first(definedIn, FileContent.identity("Namespace", null, namespace.name()), file, all)) {
                    namespaces.add(namespace);
                }
            }
            for (PodMetadata pod : content.pods()) {
                if (first(definedIn, FileContent.identity("Pod", pod.namespace(), pod.name()), file, all)) {
                    pods.add(pod);
                }
            }
        }
        return new DirectoryContent(policies, namespaces, pods, all, files);
    }

    private static boolean first(Map<String, String> definedIn, String identity, String file, List<Problem> problems) {
        String earlier = definedIn.putIfAbsent(identity, file);
        if (earlier == null) {
            return true;
        }
        problems.add(new Problem(file, identity, "", "also defined in " + earlier + ", whose version is in force"));
        return false;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        WatchService service = watcher;
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                LOG.log(Level.FINE, "closing the watch service", e);
            }
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
