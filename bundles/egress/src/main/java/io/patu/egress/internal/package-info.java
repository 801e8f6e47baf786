/** The egress feature's implementation; nothing here is exported. */
package io.patu.egress.internal;
