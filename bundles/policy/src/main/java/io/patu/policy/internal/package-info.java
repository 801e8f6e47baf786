/** The policy bundle's implementation; nothing here is exported. */
package io.patu.policy.internal;
