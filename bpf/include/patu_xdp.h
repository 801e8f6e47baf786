/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Everything xdp.bpf.c shares with the Java agent (bundles/datapath-xdp,
 * XdpLayouts): map keys, values and counters.  Host byte order unless a
 * field says otherwise; explicit padding, no bitfields.  XdpLayoutsBtfTest
 * compares these structs with the Java layouts through the object's BTF.
 */
#ifndef PATU_XDP_H
#define PATU_XDP_H

#include <linux/types.h>

/* Local pods the delivery program knows; twice the addresses of a node full of dual-stack pods. */
#define PATU_XDP_MAX_PODS 4096
/* Deny rules on the ingress devices; the XDP program tries each in turn. */
#define PATU_XDP_MAX_RULES 64
/* Ingress devices with the XDP program attached. */
#define PATU_XDP_MAX_DEVICES 64

/* Key of pod_dest: a pod address.  Size 16. */
struct patu_xdp_pod_key {
	__u8 addr[16];		/* offset 0: IPv6 address, network byte order; IPv4 as ::ffff:a.b.c.d */
};

/* Value of pod_dest: where a packet for that address goes.  Size 12. */
struct patu_xdp_pod_dest {
	__u32 ifindex;		/* offset 0: the pod's host-side veth (bpf_redirect_peer reaches its peer) */
	__u8 mac[6];		/* offset 4: the pod interface's MAC; frames addressed elsewhere take the bridge */
	__u8 pad[2];		/* offset 10 */
};

/* Value of pod_counters (per CPU), keyed by the sending pod's host veth ifindex (__u32).  Size 24. */
struct patu_xdp_pod_counters {
	__u64 delivered_packets;	/* offset 0: sent straight to another local pod */
	__u64 delivered_bytes;		/* offset 8 */
	__u64 passed_packets;		/* offset 16: left to the bridge (ARP/ND, multicast, non-local, ...) */
};

/* A deny rule on the ingress devices.  Size 44.  A packet matches when its
 * family is the rule's, (source address & mask) == addr, the protocol is the
 * rule's (0: any) and, when port_last != 0, its TCP/UDP destination port is
 * in port_first..port_last (a packet whose port is unknown, e.g. a later
 * fragment, never matches a rule with ports). */
struct patu_xdp_rule {
	__u32 addr[4];		/* offset 0: network byte order, masked; IPv4 in addr[0] */
	__u32 mask[4];		/* offset 16: network byte order */
	__u16 port_first;	/* offset 32 */
	__u16 port_last;	/* offset 34: 0 = every port */
	__u8 family;		/* offset 36: 4 or 6; 0 = unused slot */
	__u8 protocol;		/* offset 37: IPPROTO_*; 0 = any */
	__u8 pad[6];		/* offset 38 */
};

/* Value of rule_counters (per CPU), indexed like deny_rules.  Size 16. */
struct patu_xdp_rule_counters {
	__u64 dropped_packets;	/* offset 0 */
	__u64 dropped_bytes;	/* offset 8 */
};

/* Value of device_counters (per CPU), keyed by the ingress device's ifindex (__u32).  Size 24. */
struct patu_xdp_device_counters {
	__u64 passed_packets;	/* offset 0: handed to the stack */
	__u64 dropped_packets;	/* offset 8: dropped by a deny rule */
	__u64 dropped_bytes;	/* offset 16 */
};

/* Value of xdp_config entry 0.  Size 4. */
struct patu_xdp_config {
	__u32 rule_slots;	/* offset 0: deny_rules slots in use are all below this */
};

#endif /* PATU_XDP_H */
