/** The lifecycle bundle's implementation; nothing here is exported. */
package io.patu.lifecycle.internal;
