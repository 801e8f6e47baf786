/** Loads the agent's configuration file; nothing here is exported. */
package io.patu.config.internal;
