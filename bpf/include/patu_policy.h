/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Patu network policy: every struct and constant that crosses the boundary
 * between policy.bpf.c and the Java agent (bundles/policy).  Same rules as
 * patu_sockmap.h: fixed-width types, no bitfields, explicit padding, byte
 * order stated on every field; the Java side checks its layouts against the
 * BTF of the compiled object.
 *
 * Addresses are 16 bytes; IPv4 travels as ::ffff:a.b.c.d, so one map per
 * purpose serves both families.
 *
 * Generations (atomic updates).  Everything that depends on the policy
 * (which pods are isolated, their rules) is keyed by a slot, 0 or 1.  The
 * agent writes a whole new policy into the slot not in use, then switches
 * policy_generation (one 8-byte store) whose low bit names the slot in
 * force.  A program reads the generation once per packet and decides with
 * that slot alone, so no packet is ever decided by a mix of two policies.
 * The old slot is emptied only before the next change is written.
 */
#ifndef PATU_POLICY_H
#define PATU_POLICY_H

#include <linux/types.h>

/* Map and program names: the agent finds them by these. */
#define PATU_MAP_POLICY_GENERATION "policy_generation"
#define PATU_MAP_POLICY_PODS       "policy_pods"
#define PATU_MAP_INGRESS_RULES     "ingress_rules"
#define PATU_MAP_EGRESS_RULES      "egress_rules"
#define PATU_MAP_NODE_ADDRS        "node_addrs"
#define PATU_MAP_FLOWS             "policy_flows"
#define PATU_MAP_POLICY_COUNTERS   "policy_counters"
#define PATU_MAP_INGRESS_ISOLATED  "ingress_isolated"	/* shared with datapath-xdp, see docs/veth-hooks.md */
#define PATU_PROG_FROM_POD         "patu_policy_from_pod"	/* tcx ingress of a pod's host veth */
#define PATU_PROG_TO_POD           "patu_policy_to_pod"	/* tcx egress of a pod's host veth */
#define PATU_PROG_ITER_TCP         "patu_policy_iter_tcp"
#define PATU_PROG_ITER_UDP         "patu_policy_iter_udp"

#define PATU_POLICY_MAX_PODS   4096
#define PATU_POLICY_MAX_RULES  65536	/* LPM entries per direction, both slots together */
#define PATU_POLICY_MAX_FLOWS  65536
#define PATU_POLICY_MAX_NODE   256
/* Port ranges one peer prefix may carry; the agent refuses a policy that needs more. */
#define PATU_POLICY_MAX_PORTS  32

/* The only key of the one-entry policy_generation array. */
#define PATU_POLICY_GENERATION_KEY 0

/* patu_policy_pod.flags */
#define PATU_POLICY_INGRESS_ISOLATED (1u << 0)
#define PATU_POLICY_EGRESS_ISOLATED  (1u << 1)

/* patu_port_range.protocol that matches every IP protocol (a rule without ports). */
#define PATU_POLICY_ANY_PROTOCOL 0

/* patu_flow.verdict */
#define PATU_VERDICT_DENY  0
#define PATU_VERDICT_ALLOW 1

/* Key of policy_pods: a local pod selected by some policy, in one slot.  Size 20. */
struct patu_policy_pod_key {
	__u32 slot;		/* offset 0: host byte order; 0 or 1 */
	__u8 addr[16];		/* offset 4: network byte order; IPv4 as ::ffff:a.b.c.d */
};

/* Value of policy_pods.  Size 8. */
struct patu_policy_pod {
	__u32 ifindex;		/* offset 0: host byte order; the pod's host-side veth, keys its rules */
	__u32 flags;		/* offset 4: host byte order; PATU_POLICY_*_ISOLATED */
};

/*
 * Key of ingress_rules and egress_rules (LPM tries): the slot and the pod
 * are matched exactly, the peer address by prefix.  prefixlen counts the
 * bits after it: 64 (slot and pod) + 96 (the ::ffff: of IPv4) + the
 * peer's prefix length.  Size 28.
 */
struct patu_rule_key {
	__u32 prefixlen;	/* offset 0:  host byte order */
	__u32 slot;		/* offset 4:  host byte order (always matched in full); 0 or 1 */
	__u32 ifindex;		/* offset 8:  host byte order (always matched in full); the pod whose rule this is */
	__u8 peer[16];		/* offset 12: network byte order; IPv4 as ::ffff:a.b.c.d */
};

/* One allowed destination port range of one protocol.  Size 8. */
struct patu_port_range {
	__u16 first;		/* offset 0: host byte order */
	__u16 last;		/* offset 2: host byte order; inclusive */
	__u8 protocol;		/* offset 4: IP protocol number, PATU_POLICY_ANY_PROTOCOL for every one */
	__u8 pad[3];		/* offset 5 */
};

/* Value of the rule tries: what the most specific prefix allows; count 0 denies.  Size 264. */
struct patu_rule {
	__u32 count;		/* offset 0: host byte order; ranges used */
	__u32 pad;		/* offset 4 */
	struct patu_port_range ports[PATU_POLICY_MAX_PORTS];	/* offset 8 */
};

/*
 * Key of policy_flows: one connection (TCP, SCTP) or flow (UDP, others),
 * with the lower endpoint first so both directions find one entry.  For
 * protocols without ports, ports are 0 (ICMP echo: the identifier on the
 * requester's side).  Size 40.
 */
struct patu_flow_key {
	__u8 lower_addr[16];	/* offset 0:  network byte order */
	__u8 upper_addr[16];	/* offset 16: network byte order */
	__u16 lower_port;	/* offset 32: host byte order */
	__u16 upper_port;	/* offset 34: host byte order */
	__u8 protocol;		/* offset 36 */
	__u8 pad[3];		/* offset 37 */
};

/* Value of policy_flows: the verdict on the flow, valid for one generation.  Size 16. */
struct patu_flow {
	__u64 generation;	/* offset 0:  host byte order; the policy the verdict was computed with */
	__u32 denied_by;	/* offset 8:  host byte order; ifindex of the pod whose rules denied, 0 if allowed */
	__u8 verdict;		/* offset 12: PATU_VERDICT_* */
	__u8 initiator_lower;	/* offset 13: 1 when the lower endpoint opened the flow */
	__u8 denied_ingress;	/* offset 14: 1 when denied_by's ingress rules denied, 0 its egress rules */
	__u8 pad;		/* offset 15 */
};

/* Key of node_addrs: one address of this node (any interface).  Size 16. */
struct patu_node_addr {
	__u8 addr[16];		/* offset 0: network byte order; IPv4 as ::ffff:a.b.c.d */
};

/*
 * Value of policy_counters, per pod (key: host veth ifindex, __u32) and per
 * CPU; the agent creates the entries and sums CPUs.  "ingress" is what
 * arrives for the pod, "egress" what it sends; packets are counted where
 * their verdict was taken.  Size 48.
 */
struct patu_policy_counters {
	__u64 ingress_allowed;	/* offset 0:  host byte order; packets */
	__u64 ingress_denied;	/* offset 8:  host byte order; packets dropped by this pod's ingress rules */
	__u64 egress_allowed;	/* offset 16: host byte order */
	__u64 egress_denied;	/* offset 24: host byte order; packets dropped by this pod's egress rules */
	__u64 flows_decided;	/* offset 32: host byte order; verdicts computed (new or revalidated flows) */
	__u64 sockets_destroyed;	/* offset 40: host byte order; by the socket iterators */
};

#endif /* PATU_POLICY_H */
