// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kubernetes NetworkPolicy for local pods, enforced on each pod's host-side
 * veth (tcx, both directions, first in each chain: docs/veth-hooks.md).
 *
 * A packet is decided by its flow: the first packet of a flow is evaluated
 * against the rules (both sides where both are local pods: the sender's
 * egress and the receiver's ingress), the verdict is cached in policy_flows
 * with the generation it was computed with, and every later packet of the
 * flow, in either direction, costs one lookup.  Reply traffic therefore
 * follows its connection's verdict.  A verdict of an older generation is
 * computed again on the flow's next packet, so a policy change reaches
 * established flows at once: allowed ones go on untouched, denied ones stop.
 *
 * Traffic between a pod and its own node (any address in node_addrs) is
 * always allowed.  Local pod to local pod is decided entirely at the
 * sender's veth (the ingress hook), because a datapath may deliver it with
 * bpf_redirect_peer and skip the receiver's veth; the receiver's hook then
 * finds the cached verdict.
 *
 * The socket iterators run, in each pod's network namespace, after every
 * policy change: they revalidate the pod's connections and destroy
 * (bpf_sock_destroy) those the new policy denies, which resets TCP at both
 * ends and takes redirected sockets out of the sockhash on the way.
 *
 * Generations: see patu_policy.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include "patu_policy.h"
#include "patu_policy_kernel.h"

/* UAPI 6.6+; Debian 12's headers are older. */
#ifndef TCX_NEXT
#define TCX_NEXT -1
#define TCX_PASS 0
#define TCX_DROP 2
#endif
#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
/* linux/icmp.h and icmpv6.h pull in libc headers the BPF target lacks. */
#define ICMP_ECHOREPLY       0
#define ICMP_DEST_UNREACH    3
#define ICMP_ECHO            8
#define ICMP_TIME_EXCEEDED   11
#define ICMP_PARAMETERPROB   12
#define ICMPV6_ECHO_REQUEST  128
#define ICMPV6_ECHO_REPLY    129
#ifndef ECONNABORTED
#define ECONNABORTED 103
#endif

/*
 * Knobs, set by the agent between open and load.
 * pass_icmp_errors: ICMP errors (destination unreachable, time exceeded,
 *   packet too big, parameter problem) pass; they belong to a flow that
 *   was decided already and path MTU discovery needs them.
 * pass_tcp_resets: a TCP reset of a known flow passes even when the flow
 *   is now denied, so a peer outside the node learns that a connection a
 *   policy change ended is gone.
 */
const volatile __u8 pass_icmp_errors = 1;
const volatile __u8 pass_tcp_resets = 1;

/* The generation in force; its low bit is the slot every lookup uses. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} policy_generation SEC(".maps");

/* Local pods that some policy selects, per slot, by address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * PATU_POLICY_MAX_PODS);
	__type(key, struct patu_policy_pod_key);
	__type(value, struct patu_policy_pod);
} policy_pods SEC(".maps");

/* Who may reach a pod (peer = source), per slot and pod; see patu_rule_key. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PATU_POLICY_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct patu_rule_key);
	__type(value, struct patu_rule);
} ingress_rules SEC(".maps");

/* Whom a pod may reach (peer = destination), per slot and pod. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PATU_POLICY_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct patu_rule_key);
	__type(value, struct patu_rule);
} egress_rules SEC(".maps");

/* This node's own addresses: traffic between a pod and them is always allowed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_POLICY_MAX_NODE);
	__type(key, struct patu_node_addr);
	__type(value, __u8);
} node_addrs SEC(".maps");

/* Verdicts of flows seen; least recently used flows make room. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PATU_POLICY_MAX_FLOWS);
	__type(key, struct patu_flow_key);
	__type(value, struct patu_flow);
} policy_flows SEC(".maps");

/* Per-pod counters (key: host veth ifindex); entries are the agent's. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PATU_POLICY_MAX_PODS);
	__type(key, __u32);
	__type(value, struct patu_policy_counters);
} policy_counters SEC(".maps");

/* Pods isolated for ingress in the generation in force (key: host veth
 * ifindex, value 1).  Not read here: fast paths that bypass the host
 * veth's egress hook consult it (docs/veth-hooks.md). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_POLICY_MAX_PODS);
	__type(key, __u32);
	__type(value, __u8);
} ingress_isolated SEC(".maps");

/* One packet (or socket) reduced to what policy looks at. */
struct tuple {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 protocol;
	__u8 tcp_flags;		/* TCP: the flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10) */
	__u8 icmp_error;	/* an ICMP error message */
	__u8 has_ports;		/* TCP, UDP, SCTP, or ICMP echo */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static __always_inline void v4_mapped(__u8 addr[16], __be32 ip4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], &ip4, 4);
}

/*
 * len bytes of the packet at off: read in place where they lie in its linear
 * part (headers a local socket wrote always do), else copied into buf by
 * bpf_skb_load_bytes, whose bounds are the helper's.  NULL when the packet
 * is shorter.  In place saves the helper call and the copy on every packet.
 */
static __always_inline const void *header(struct __sk_buff *skb, __u32 off, void *buf, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	void *p = data + off;

	if (p + len <= end)
		return p;
	if (bpf_skb_load_bytes(skb, off, buf, len))
		return NULL;
	return buf;
}

/* Reads the transport ports (or the ICMP type) at offset l4 of the packet;
 * a packet too short for them carries no ports. */
static __always_inline void parse_l4(struct __sk_buff *skb, __u32 l4, struct tuple *t, int v6)
{
	__u8 buf[14];
	const __u8 *hdr;

	switch (t->protocol) {
	case IPPROTO_TCP:
		hdr = header(skb, l4, buf, 14);
		if (!hdr)
			return;
		t->tcp_flags = hdr[13];
		break;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		hdr = header(skb, l4, buf, 4);
		if (!hdr)
			return;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hdr = header(skb, l4, buf, 6);
		if (!hdr)
			return;
		/* Echo: the identifier stands for the requester's port, so a
		 * reply finds its request's flow. */
		if ((!v6 && hdr[0] == ICMP_ECHO) || (v6 && hdr[0] == ICMPV6_ECHO_REQUEST)) {
			t->sport = ((__u16)hdr[4] << 8) | hdr[5];
			t->has_ports = 1;
		} else if ((!v6 && hdr[0] == ICMP_ECHOREPLY) || (v6 && hdr[0] == ICMPV6_ECHO_REPLY)) {
			t->dport = ((__u16)hdr[4] << 8) | hdr[5];
			t->has_ports = 1;
		} else if (!v6) {
			t->icmp_error = hdr[0] == ICMP_DEST_UNREACH || hdr[0] == ICMP_TIME_EXCEEDED ||
					hdr[0] == ICMP_PARAMETERPROB;
		} else {
			t->icmp_error = hdr[0] < 128;	/* ICMPv6 errors are types 1..127 */
		}
		return;
	default:
		return;
	}
	t->sport = ((__u16)hdr[0] << 8) | hdr[1];
	t->dport = ((__u16)hdr[2] << 8) | hdr[3];
	t->has_ports = 1;
}

/* Extension headers an IPv6 packet may carry before its transport header,
 * at most this many (anything deeper is decided without ports). */
#define MAX_IPV6_EXT 4

enum parse_result { PARSE_OK, PARSE_PASS, PARSE_DROP };

/*
 * Fills t from the packet; PARSE_PASS for what policy does not govern
 * (non-IP, neighbour discovery, non-first fragments), PARSE_DROP for a
 * truncated IP header.
 */
static __always_inline enum parse_result parse_packet(struct __sk_buff *skb, struct tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr buf;
		const struct iphdr *ip = header(skb, ETH_HLEN, &buf, sizeof(buf));

		if (!ip || ip->ihl < 5)
			return PARSE_DROP;
		v4_mapped(t->src, ip->saddr);
		v4_mapped(t->dst, ip->daddr);
		t->protocol = ip->protocol;
		/* A later fragment carries no transport header; the first one
		 * was decided, and without it nothing reassembles. */
		if (ip->frag_off & bpf_htons(0x1fff))
			return PARSE_PASS;
		parse_l4(skb, ETH_HLEN + ip->ihl * 4, t, 0);
		return PARSE_OK;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr buf;
		const struct ipv6hdr *ip6 = header(skb, ETH_HLEN, &buf, sizeof(buf));
		__u32 off = ETH_HLEN + sizeof(buf);
		__u8 next;

		if (!ip6)
			return PARSE_DROP;
		__builtin_memcpy(t->src, &ip6->saddr, 16);
		__builtin_memcpy(t->dst, &ip6->daddr, 16);
		next = ip6->nexthdr;
#pragma unroll
		for (int i = 0; i < MAX_IPV6_EXT; i++) {
			__u8 ext[8];

			if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
			    next != IPPROTO_FRAGMENT)
				break;
			if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
				return PARSE_DROP;
			if (next == IPPROTO_FRAGMENT) {
				/* offset field: bits 3..15 of bytes 2-3 */
				if (((ext[2] << 8) | ext[3]) & 0xfff8)
					return PARSE_PASS;
				off += 8;
			} else {
				off += (ext[1] + 1) * 8;
			}
			next = ext[0];
		}
		t->protocol = next;
		parse_l4(skb, off, t, 1);
		/* Neighbour discovery (133..137) keeps the link working. */
		if (next == IPPROTO_ICMPV6 && !t->has_ports && !t->icmp_error) {
			__u8 type;

			if (!bpf_skb_load_bytes(skb, off, &type, 1) && type >= 133 && type <= 137)
				return PARSE_PASS;
		}
		return PARSE_OK;
	}
	return PARSE_PASS;
}

static __always_inline int addr_lower(const __u8 a[16], const __u8 b[16])
{
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (a[i] != b[i])
			return a[i] < b[i];
	}
	return 0;
}

/* The flow key of t, lower endpoint first; returns 1 when t's source is lower. */
static __always_inline int flow_key_of(const struct tuple *t, struct patu_flow_key *k)
{
	int src_lower = addr_lower(t->src, t->dst) ||
			(!addr_lower(t->dst, t->src) && t->sport <= t->dport);

	__builtin_memset(k, 0, sizeof(*k));
	if (src_lower) {
		__builtin_memcpy(k->lower_addr, t->src, 16);
		__builtin_memcpy(k->upper_addr, t->dst, 16);
		k->lower_port = t->sport;
		k->upper_port = t->dport;
	} else {
		__builtin_memcpy(k->lower_addr, t->dst, 16);
		__builtin_memcpy(k->upper_addr, t->src, 16);
		k->lower_port = t->dport;
		k->upper_port = t->sport;
	}
	k->protocol = t->protocol;
	return src_lower;
}

/* A function of its own, like decide: only a flow's first packet asks. */
static __noinline int is_node_addr(const __u8 addr[16])
{
	struct patu_node_addr key;

	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(&node_addrs, &key) != NULL;
}

static __always_inline struct patu_policy_pod *policy_pod(__u32 slot, const __u8 addr[16])
{
	struct patu_policy_pod_key key = { .slot = slot };

	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(&policy_pods, &key);
}

/* Whether rules (ingress_rules or egress_rules) of pod ifindex let peer use protocol/port. */
static __always_inline int rules_allow(void *rules, __u32 slot, __u32 ifindex, const __u8 peer[16],
				       __u8 protocol, __u16 port)
{
	struct patu_rule_key key = {
		.prefixlen = 8 * sizeof(key) - 32,
		.slot = slot,
		.ifindex = ifindex,
	};
	struct patu_rule *rule;

	__builtin_memcpy(key.peer, peer, 16);
	rule = bpf_map_lookup_elem(rules, &key);
	if (!rule)
		return 0;
	for (__u32 i = 0; i < PATU_POLICY_MAX_PORTS; i++) {
		struct patu_port_range *r;

		if (i >= rule->count)
			break;
		r = &rule->ports[i];
		if (r->protocol == PATU_POLICY_ANY_PROTOCOL)
			return 1;
		if (r->protocol == protocol && port >= r->first && port <= r->last)
			return 1;
	}
	return 0;
}

/*
 * The verdict on flow k, opened by its lower endpoint (lower_opens) or its
 * upper one, under slot: the opener's egress rules if it is an isolated
 * local pod, and the other end's ingress rules likewise; the port is the
 * other end's.  Fills the denial fields of f.  A function of its own (not
 * inlined): it is called from three places per program, and inlined copies
 * of it outgrew the BPF stack.
 */
static __noinline int decide(__u32 slot, const struct patu_flow_key *k, int lower_opens, struct patu_flow *f)
{
	const __u8 *from = lower_opens ? k->lower_addr : k->upper_addr;
	const __u8 *to = lower_opens ? k->upper_addr : k->lower_addr;
	__u16 port = lower_opens ? k->upper_port : k->lower_port;
	struct patu_policy_pod *pod;

	f->denied_by = 0;
	f->denied_ingress = 0;
	if (is_node_addr(from) || is_node_addr(to))
		return PATU_VERDICT_ALLOW;
	pod = policy_pod(slot, from);
	if (pod && (pod->flags & PATU_POLICY_EGRESS_ISOLATED) &&
	    !rules_allow(&egress_rules, slot, pod->ifindex, to, k->protocol, port)) {
		f->denied_by = pod->ifindex;
		return PATU_VERDICT_DENY;
	}
	pod = policy_pod(slot, to);
	if (pod && (pod->flags & PATU_POLICY_INGRESS_ISOLATED) &&
	    !rules_allow(&ingress_rules, slot, pod->ifindex, from, k->protocol, port)) {
		f->denied_by = pod->ifindex;
		f->denied_ingress = 1;
		return PATU_VERDICT_DENY;
	}
	return PATU_VERDICT_ALLOW;
}

/*
 * Decides a flow whose opener is unknown (a mid-connection packet with no
 * cache entry: the entry was evicted, or the flow predates the policy):
 * allowed if it would be allowed opened from either end.
 */
static __always_inline void decide_either(__u32 slot, const struct patu_flow_key *k, struct patu_flow *f)
{
	f->initiator_lower = 1;
	f->verdict = decide(slot, k, 1, f);
	if (f->verdict == PATU_VERDICT_ALLOW)
		return;
	struct patu_flow reverse = {};

	if (decide(slot, k, 0, &reverse) == PATU_VERDICT_ALLOW) {
		f->initiator_lower = 0;
		f->verdict = PATU_VERDICT_ALLOW;
		f->denied_by = 0;
		f->denied_ingress = 0;
	}
}

/* Decides f (whose initiator_lower is known) again under slot. */
static __always_inline void redecide(__u32 slot, const struct patu_flow_key *k, struct patu_flow *f)
{
	f->verdict = decide(slot, k, f->initiator_lower, f);
}

static __always_inline __u64 current_generation(void)
{
	__u32 key = PATU_POLICY_GENERATION_KEY;
	__u64 *gen = bpf_map_lookup_elem(&policy_generation, &key);

	return gen ? *gen : 0;
}

static __always_inline void count(__u32 ifindex, int allowed, int ingress, int decided)
{
	struct patu_policy_counters *c = bpf_map_lookup_elem(&policy_counters, &ifindex);

	if (!c)
		return;
	if (ingress) {
		if (allowed)
			c->ingress_allowed++;
		else
			c->ingress_denied++;
	} else {
		if (allowed)
			c->egress_allowed++;
		else
			c->egress_denied++;
	}
	if (decided)
		c->flows_decided++;
}

/* Whether a packet with no cache entry opens its flow (else it is mid-connection). */
static __always_inline int opens_flow(const struct tuple *t)
{
	if (t->protocol == IPPROTO_TCP)
		return (t->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	return 1;
}

/*
 * The per-packet decision at a pod's host veth; to_pod: the egress hook
 * (delivered to the pod), else the ingress hook (sent by the pod).
 */
static __always_inline int enforce(struct __sk_buff *skb, int to_pod)
{
	struct tuple t;
	struct patu_flow_key key;
	struct patu_flow *cached, f = {};
	__u64 gen;
	__u32 slot;
	int decided = 0;

	switch (parse_packet(skb, &t)) {
	case PARSE_PASS:
		return TCX_NEXT;
	case PARSE_DROP:
		return TCX_DROP;
	case PARSE_OK:
		break;
	}
	if (t.icmp_error && pass_icmp_errors)
		return TCX_NEXT;

	gen = current_generation();
	slot = gen & 1;
	int src_lower = flow_key_of(&t, &key);

	/* The cache comes first, also for traffic between a pod and its node
	 * (decide allows it, and its verdict is cached like any other): a
	 * packet of a known flow costs this one lookup.  node_addrs changes
	 * only together with a new generation (the agent writes it first). */
	cached = bpf_map_lookup_elem(&policy_flows, &key);
	/* Generation 0: the programs are attached but no policy was written yet
	 * (the feature is starting).  Connections that exist go on; new ones
	 * wait (TCP retries its SYN) until the first policy is in force, except
	 * those between a pod and its node, which always talk. */
	if (gen == 0 && !cached && opens_flow(&t) && !is_node_addr(to_pod ? t.src : t.dst))
		return TCX_DROP;
	if (cached && cached->generation == gen) {
		f = *cached;
	} else {
		if (cached) {
			f = *cached;
			redecide(slot, &key, &f);
		} else if (opens_flow(&t)) {
			f.initiator_lower = src_lower;
			f.verdict = decide(slot, &key, src_lower, &f);
		} else {
			decide_either(slot, &key, &f);
		}
		f.generation = gen;
		bpf_map_update_elem(&policy_flows, &key, &f, BPF_ANY);
		decided = 1;
	}
	if (f.verdict == PATU_VERDICT_ALLOW) {
		count(skb->ifindex, 1, to_pod, decided);
		return TCX_NEXT;
	}
	if (pass_tcp_resets && t.protocol == IPPROTO_TCP && (t.tcp_flags & TCP_RST) && cached)
		return TCX_NEXT;
	count(f.denied_by, 0, f.denied_ingress, decided);
	return TCX_DROP;
}

SEC("tc")
int patu_policy_from_pod(struct __sk_buff *skb)
{
	return enforce(skb, 0);
}

SEC("tc")
int patu_policy_to_pod(struct __sk_buff *skb)
{
	return enforce(skb, 1);
}

/*
 * A socket of a pod, seen from the pod's namespace: revalidates its flow
 * under the generation in force and destroys the socket if it is denied.
 * Sockets with no remote end (listening, unconnected UDP) have no flow.
 */
static __always_inline int revalidate_socket(struct sock_common *sk, __u8 protocol)
{
	struct tuple t = {};
	struct patu_flow_key key;
	struct patu_flow *cached, f = {};
	__u64 gen = current_generation();
	__u32 slot = gen & 1;
	int local_lower;

	t.protocol = protocol;
	if (sk->skc_family == AF_INET) {
		if (!sk->skc_daddr)
			return 0;
		v4_mapped(t.src, sk->skc_rcv_saddr);
		v4_mapped(t.dst, sk->skc_daddr);
	} else if (sk->skc_family == AF_INET6) {
		bpf_core_read(t.src, 16, &sk->skc_v6_rcv_saddr);
		bpf_core_read(t.dst, 16, &sk->skc_v6_daddr);
	} else {
		return 0;
	}
	t.sport = sk->skc_num;
	t.dport = bpf_ntohs(sk->skc_dport);
	if (!t.dport)
		return 0;
	if (is_node_addr(t.src) || is_node_addr(t.dst))
		return 0;

	local_lower = flow_key_of(&t, &key);
	cached = bpf_map_lookup_elem(&policy_flows, &key);
	if (cached) {
		if (cached->generation == gen && cached->verdict == PATU_VERDICT_ALLOW)
			return 0;
		f = *cached;
		if (cached->generation != gen)
			redecide(slot, &key, &f);
	} else {
		decide_either(slot, &key, &f);
	}
	if (!cached || cached->generation != gen) {
		f.generation = gen;
		bpf_map_update_elem(&policy_flows, &key, &f, BPF_ANY);
	}
	if (f.verdict == PATU_VERDICT_ALLOW)
		return 0;
	(void)local_lower;
	if (bpf_sock_destroy(sk) == 0 && f.denied_by) {
		struct patu_policy_counters *c = bpf_map_lookup_elem(&policy_counters, &f.denied_by);

		if (c)
			c->sockets_destroyed++;
	}
	return 0;
}

SEC("iter/tcp")
int patu_policy_iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *sk = ctx->sk_common;
	unsigned char state;

	if (!sk)
		return 0;
	state = sk->skc_state;
	switch (state) {
	case PATU_TCP_ESTABLISHED:
	case PATU_TCP_SYN_SENT:
	case PATU_TCP_SYN_RECV:
	case PATU_TCP_FIN_WAIT1:
	case PATU_TCP_FIN_WAIT2:
	case PATU_TCP_CLOSE_WAIT:
	case PATU_TCP_LAST_ACK:
	case PATU_TCP_CLOSING:
		return revalidate_socket(sk, IPPROTO_TCP);
	}
	return 0;
}

SEC("iter/udp")
int patu_policy_iter_udp(struct bpf_iter__udp *ctx)
{
	struct sock_common *sk = ctx->udp_sk;

	if (!sk)
		return 0;
	return revalidate_socket(sk, IPPROTO_UDP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
