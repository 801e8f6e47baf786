package io.patu.config.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.Map;
import java.util.Objects;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Applies the file named by the framework property {@code patu.config} to Configuration Admin when the
 * agent starts. Components keep their built-in defaults (the embedded default configuration) for every
 * property the file does not set.
 *
 * <p>Why not the Felix Configurator: it reads JSON through jakarta.json, whose provider is found with
 * ServiceLoader and so needs a Service Loader Mediator in OSGi: three more bundles and several MB of
 * memory on a device, for what Jackson, already in the agent, does in a few lines. The file format is
 * the Configurator's, so a device can switch to it without rewriting its configuration.
 */
@Component(immediate = true, service = {})
public final class ConfigurationLoader {
    static final String FILE_PROPERTY = "patu.config";
    private static final Logger LOG = Logger.getLogger(ConfigurationLoader.class.getName());

    @Activate
    public ConfigurationLoader(BundleContext context, @Reference ConfigurationAdmin admin) throws IOException {
        String location = context.getProperty(FILE_PROPERTY);
        if (location == null || location.isBlank()) {
            LOG.info("no " + FILE_PROPERTY + " property: components run on their built-in defaults");
            return;
        }
        Path file = Path.of(location);
        if (!Files.isRegularFile(file)) {
            throw new IOException("configuration file " + file + " (framework property " + FILE_PROPERTY + ") does not exist");
        }
        for (Map.Entry<String, Hashtable<String, Object>> pid : ConfigurationFile.read(file).entrySet()) {
            Configuration configuration = admin.getConfiguration(pid.getKey(), "?");
            // Updating with identical properties would still restart the components bound to the PID.
            if (!sameProperties(configuration.getProperties(), pid.getValue())) {
                configuration.update(pid.getValue());
            }
        }
        LOG.info(() -> "applied configuration " + file);
    }

    private static boolean sameProperties(Dictionary<String, Object> current, Hashtable<String, Object> wanted) {
        if (current == null) {
            return false;
        }
        int count = 0;
        for (Enumeration<String> keys = current.keys(); keys.hasMoreElements(); ) {
            String key = keys.nextElement();
            if (key.equals(Constants.SERVICE_PID) || key.startsWith("service.") || key.startsWith("felix.")) {
                continue;
            }
            count++;
            Object value = current.get(key);
            Object other = wanted.get(key);
            boolean equal = value instanceof Object[] a && other instanceof Object[] b
                    ? java.util.Arrays.equals(a, b) : Objects.equals(value, other);
            if (!equal) {
                return false;
            }
        }
        return count == wanted.size();
    }
}
