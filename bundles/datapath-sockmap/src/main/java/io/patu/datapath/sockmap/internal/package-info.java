/** The sockmap datapath's implementation; nothing here is exported. */
package io.patu.datapath.sockmap.internal;
