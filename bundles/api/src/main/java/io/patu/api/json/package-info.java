/**
 * JSON documents as Jackson trees, read and written without an ObjectMapper.
 */
@Export
@Version("1.1.0")
package io.patu.api.json;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
