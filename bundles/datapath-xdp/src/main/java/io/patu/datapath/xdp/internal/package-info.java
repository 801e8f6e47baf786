/** The packet datapath's implementation; nothing here is exported. */
package io.patu.datapath.xdp.internal;
