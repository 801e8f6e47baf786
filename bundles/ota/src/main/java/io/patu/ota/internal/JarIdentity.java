package io.patu.ota.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/** Which bundle a jar is, from its own manifest: what the signed manifest's claim is checked against. */
record JarIdentity(String symbolicName, String version) {
    static JarIdentity of(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            Manifest manifest = file.getManifest();
            if (manifest == null) {
                throw new IOException(jar.getFileName() + " has no manifest");
            }
            Attributes main = manifest.getMainAttributes();
            String name = main.getValue("Bundle-SymbolicName");
            if (name == null) {
                throw new IOException(jar.getFileName() + " is not an OSGi bundle (no Bundle-SymbolicName)");
            }
            // "io.patu.x;singleton:=true": the directives are not part of the name.
            int semicolon = name.indexOf(';');
            String version = main.getValue("Bundle-Version");
            return new JarIdentity((semicolon < 0 ? name : name.substring(0, semicolon)).strip(),
                    version == null ? "0.0.0" : version.strip());
        }
    }
}
