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

/* Value of xdp_config entry 0.  Size 8. */
struct patu_xdp_config {
	__u32 rule_slots;	/* offset 0: deny_rules slots in use are all below this */
	__u32 ports_published;	/* offset 4: entries in port_map; 0 spares every packet the port lookups */
};

/* Published ports (one entry per host address, port, protocol and family). */
#define PATU_XDP_MAX_PORTS 4096
/* Connections through a published port whose replies are translated back. */
#define PATU_XDP_MAX_NAT_FLOWS 65536
/* Addresses of the node itself: a port published on every address answers on these. */
#define PATU_XDP_MAX_NODE_ADDRS 256

/* Key of port_map: a published port.  Size 20.  addr all zero = every address of the node (the address
 * must then be in node_addrs, or loopback for the node's own sockets). */
struct patu_xdp_port_key {
	__u8 addr[16];		/* offset 0: node address, IPv4 as ::ffff:a.b.c.d; all zero = any */
	__u16 port;		/* offset 16: host port, host byte order */
	__u8 protocol;		/* offset 18: IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* offset 19: 4 or 6 (an "any" key exists once per family) */
};

/* Value of port_map: where the published port goes.  Size 24. */
struct patu_xdp_port_dest {
	__u8 addr[16];		/* offset 0: the pod's address, same form as the key */
	__u16 port;		/* offset 16: container port, host byte order */
	__u8 pad[2];		/* offset 18 */
	__u32 ifindex;		/* offset 20: the pod's host veth (for operators; delivery goes through the stack) */
};

/* Key of nat_back: a translated connection as the pod's replies carry it.  Size 40. */
struct patu_xdp_nat_flow {
	__u8 pod_addr[16];	/* offset 0: the reply's source: the pod */
	__u8 peer_addr[16];	/* offset 16: the reply's destination: the client */
	__u16 pod_port;		/* offset 32: host byte order */
	__u16 peer_port;	/* offset 34: host byte order */
	__u8 protocol;		/* offset 36 */
	__u8 pad[3];		/* offset 37 */
};

/* Value of nat_back and sock_nat_back: the address and port the client used.  Size 20. */
struct patu_xdp_nat_origin {
	__u8 addr[16];		/* offset 0 */
	__u16 port;		/* offset 16: host byte order */
	__u8 pad[2];		/* offset 18 */
};

/* Key of sock_nat_back: a UDP socket of the node and the pod address it was sent to.  Size 32. */
struct patu_xdp_sock_flow {
	__u64 cookie;		/* offset 0: bpf_get_socket_cookie */
	__u8 addr[16];		/* offset 8: the pod address */
	__u16 port;		/* offset 24: the container port, host byte order */
	__u8 pad[6];		/* offset 26 */
};

/* Value of port_counters (per CPU), entry 0.  Size 48. */
struct patu_xdp_port_counters {
	__u64 ingress_translated;	/* offset 0: packets to a published port translated by XDP on an ingress device */
	__u64 pod_translated;		/* offset 8: from a pod, translated on its host veth */
	__u64 replies_translated;	/* offset 16: pod replies translated back on its host veth */
	__u64 sockets_translated;	/* offset 24: connect/sendmsg of the node's own sockets */
	__u64 ingress_delivered;	/* offset 32: translated from outside and handed straight to the pod (bpf_redirect_peer) */
	__u64 ingress_isolated;		/* offset 40: translated from outside for a pod policy isolates: left to the stack */
};

/* What XDP on an ingress device tells the tcx program after it (skb metadata, bpf_xdp_adjust_meta): this
 * packet was translated for a published port of the pod behind host veth ifindex.  Size 8. */
#define PATU_XDP_META_MAGIC 0x50617475	/* "Patu" */
struct patu_xdp_meta {
	__u32 magic;		/* offset 0: PATU_XDP_META_MAGIC */
	__u32 ifindex;		/* offset 4: the pod's host veth */
};

/* Pods the policy bundle isolates for ingress (its pinned map policy/ingress_isolated, docs/veth-hooks.md):
 * key host veth ifindex, value 1.  Reached through the one-slot map of maps policy_isolated. */
#define PATU_XDP_MAX_ISOLATED 4096

#endif /* PATU_XDP_H */
