package io.patu.ota.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The integrator's command line, run by {@code bin/patu ota keygen|pack} outside OSGi:
 * <pre>
 *   keygen --out NAME                    NAME.key (secret: private and public key) and NAME.pub (the public
 *                                        key, one line, for the devices' trustedKeys)
 *   pack --key NAME.key [--key ...] [--sequence N] [--expires-days D] --out DIR JAR...
 * </pre>
 */
public final class OtaTool {
    private OtaTool() {
    }

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException | IOException | GeneralSecurityException e) {
            System.err.println("patu ota: " + e.getMessage());
            System.exit(2);
        }
    }

    static int run(String[] args) throws IOException, GeneralSecurityException {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: patu ota keygen --out NAME | pack --key KEY [--key KEY] [--sequence N] [--expires-days D] --out DIR JAR...");
        }
        List<String> rest = List.of(args).subList(1, args.length);
        return switch (args[0]) {
            case "keygen" -> keygen(rest);
            case "pack" -> pack(rest);
            default -> throw new IllegalArgumentException("unknown ota command '" + args[0] + "' (keygen, pack)");
        };
    }

    private static int keygen(List<String> args) throws IOException, GeneralSecurityException {
        String out = null;
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--out") && i + 1 < args.size()) {
                out = args.get(++i);
            } else {
                throw new IllegalArgumentException("keygen: unexpected '" + args.get(i) + "' (usage: keygen --out NAME)");
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("keygen needs --out NAME");
        }
        Path secret = Path.of(out + ".key");
        Path pub = Path.of(out + ".pub");
        if (Files.exists(secret)) {
            throw new IllegalArgumentException(secret + " exists; a key is never overwritten");
        }
        KeyPair pair = SigningKeys.generate();
        String id = SigningKeys.keyId(pair.getPublic());
        // Created readable by its owner only, before the secret is written into it.
        Files.createFile(secret, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(secret, "# Patu OTA signing key " + id + ": keep it secret\nprivate "
                + SigningKeys.privateText(pair.getPrivate()) + "\npublic " + SigningKeys.publicText(pair.getPublic()) + "\n");
        Files.writeString(pub, SigningKeys.publicText(pair.getPublic()) + "\n");
        System.out.println("key " + id + ": secret " + secret + ", public " + pub
                + " (add its line to io.patu.ota trustedKeys on the devices)");
        return 0;
    }

    private static int pack(List<String> args) throws IOException, GeneralSecurityException {
        List<KeyPair> keys = new ArrayList<>();
        List<Path> jars = new ArrayList<>();
        Path out = null;
        long sequence = Instant.now().getEpochSecond();
        long days = 90;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--key" -> keys.add(readKey(Path.of(value(args, ++i, arg))));
                case "--out" -> out = Path.of(value(args, ++i, arg));
                case "--sequence" -> sequence = Long.parseLong(value(args, ++i, arg));
                case "--expires-days" -> days = Long.parseLong(value(args, ++i, arg));
                default -> {
                    if (arg.startsWith("--")) {
                        throw new IllegalArgumentException("pack: unknown option '" + arg + "'");
                    }
                    jars.add(Path.of(arg));
                }
            }
        }
        if (keys.isEmpty() || out == null || jars.isEmpty()) {
            throw new IllegalArgumentException("pack needs --key KEY, --out DIR and at least one JAR");
        }
        ReleaseManifest release = ReleasePacker.pack(jars, keys, sequence, Instant.now().plus(Duration.ofDays(days)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS), out);
        for (Artifact a : release.artifacts()) {
            System.out.printf("%s %s %d bytes sha256 %s%n", a.bundle(), a.version(), a.size(), a.sha256());
        }
        System.out.println("release " + release.sequence() + " (expires " + release.expires() + ") signed by "
                + keys.size() + " key(s) in " + out);
        return 0;
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }

    static KeyPair readKey(Path file) throws IOException {
        PrivateKey secret = null;
        PublicKey pub = null;
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("private ")) {
                secret = SigningKeys.parsePrivate(line.substring(8));
            } else if (line.startsWith("public ")) {
                pub = SigningKeys.parsePublic(line.substring(7));
            }
        }
        if (secret == null || pub == null) {
            throw new IllegalArgumentException(file + " is not a key written by 'patu ota keygen'");
        }
        return new KeyPair(pub, secret);
    }
}
