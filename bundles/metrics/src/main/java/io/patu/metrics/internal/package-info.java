/** The metrics bundle's implementation; nothing here is exported. */
package io.patu.metrics.internal;
