// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The packet datapath: each program where it measured best on this kind of
 * node (docs/datapath-xdp.md).
 *
 * patu_tcx_deliver runs on the tcx ingress hook of every pod's host veth,
 * i.e. on what the pod sends, after the policy bundle's programs (they sit
 * at the head of the chain: docs/veth-hooks.md).  A frame addressed to
 * another local pod (its IP destination and its destination MAC are that
 * pod's, as on the bridge, where local pods share one L2 segment) is handed
 * with bpf_redirect_peer straight to that pod's interface: the bridge, the
 * destination's host veth and a softirq hop are skipped.  The frame is not
 * changed, just as the bridge forwards it.  Everything else (ARP, ND,
 * broadcast and multicast, frames for the gateway or off the node, what does
 * not parse) continues to the bridge with TCX_NEXT.  This is tc, not XDP: the
 * skb already exists, and XDP on a pod veth would cost the pod its TSO/GSO.
 *
 * patu_xdp_ingress runs as native XDP on the node's ingress devices, before
 * an skb exists: frames whose source matches a deny rule are dropped there.
 *
 * Published ports (runtimeConfig.portMappings) are served here too, with no
 * iptables and no conntrack: a packet to node-address:hostPort is translated
 * to pod:containerPort where it first meets Patu (XDP on an ingress device,
 * tcx on the sending pod's host veth, or, for the node's own sockets, the
 * cgroup connect/sendmsg hooks, which translate once a socket instead of once
 * a packet), and the pod's replies are translated back on its host veth.
 * What arrives from the network is then handed straight to the pod by
 * patu_tcx_ingress, on the tcx ingress of the same device (XDP tells it
 * through the skb metadata), or by patu_tcx_publish: bpf_redirect_peer, with
 * no routing, conntrack or bridge, unless policy isolates the pod.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "patu_xdp.h"

/* enum tcx_action_base (linux/bpf.h of 6.6+; Debian's uapi header predates it). */
#define PATU_TCX_NEXT (-1)

#define PATU_IP_MF     0x2000
#define PATU_IP_OFFSET 0x1fff

/* Local pod address -> its host veth and MAC.  Written by the agent on pod ADD, removed on DEL. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_XDP_MAX_PODS);
	__type(key, struct patu_xdp_pod_key);
	__type(value, struct patu_xdp_pod_dest);
} pod_dest SEC(".maps");

/* Sending pod's host veth ifindex -> what the delivery program did with its frames. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PATU_XDP_MAX_PODS);
	__type(key, __u32);
	__type(value, struct patu_xdp_pod_counters);
} pod_counters SEC(".maps");

/* The deny list of the ingress devices, in slots that keep their index (and counters) while others change. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PATU_XDP_MAX_RULES);
	__type(key, __u32);
	__type(value, struct patu_xdp_rule);
} deny_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PATU_XDP_MAX_RULES);
	__type(key, __u32);
	__type(value, struct patu_xdp_rule_counters);
} rule_counters SEC(".maps");

/* Ingress device ifindex -> what the XDP program did on it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PATU_XDP_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct patu_xdp_device_counters);
} device_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct patu_xdp_config);
} xdp_config SEC(".maps");


/* Published ports: node address (or any), host port, protocol -> the pod and its container port. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_XDP_MAX_PORTS);
	__type(key, struct patu_xdp_port_key);
	__type(value, struct patu_xdp_port_dest);
} port_map SEC(".maps");

/* Connections translated per packet, keyed as the pod's replies carry them -> what the client addressed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PATU_XDP_MAX_NAT_FLOWS);
	__type(key, struct patu_xdp_nat_flow);
	__type(value, struct patu_xdp_nat_origin);
} nat_back SEC(".maps");

/* UDP sockets of the node translated in sendmsg/connect -> what the application addressed (for recvmsg). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PATU_XDP_MAX_NAT_FLOWS);
	__type(key, struct patu_xdp_sock_flow);
	__type(value, struct patu_xdp_nat_origin);
} sock_nat_back SEC(".maps");

/* The node's own addresses (IPv4 as ::ffff:a.b.c.d), where a port published on every address answers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_XDP_MAX_NODE_ADDRS);
	__type(key, struct patu_xdp_pod_key);
	__type(value, __u8);
} node_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct patu_xdp_port_counters);
} port_counters SEC(".maps");

/* The shape of the policy bundle's ingress_isolated (hash u32 -> u8); a map of maps checks it on insertion. */
struct isolated_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_XDP_MAX_ISOLATED);
	__type(key, __u32);
	__type(value, __u8);
};

/*
 * Slot 0: the policy bundle's pinned ingress_isolated, put there by the agent when that pin exists (and
 * replaced when policy re-creates it); empty without policy. A map of maps, not a map opened by this object
 * at load: the policy bundle may start after this one, stop, or restart with a new map, and this object
 * neither waits for it nor depends on it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct isolated_inner);
} policy_isolated SEC(".maps");

static __always_inline void count_pod(__u32 ifindex, int delivered, __u32 bytes)
{
	struct patu_xdp_pod_counters *c = bpf_map_lookup_elem(&pod_counters, &ifindex);

	if (!c)
		return; /* not a pod the agent told us about */
	if (delivered) {
		c->delivered_packets++;
		c->delivered_bytes += bytes;
	} else {
		c->passed_packets++;
	}
}

static __always_inline int same_mac(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

/* Fills key with the IP destination of the frame; 0 if the frame is neither IPv4 nor IPv6 or is cut short. */
static __always_inline int destination_of(void *data, void *end, struct patu_xdp_pod_key *key)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return 0;
		__builtin_memset(key, 0, sizeof(*key));
		key->addr[10] = 0xff;
		key->addr[11] = 0xff;
		__builtin_memcpy(&key->addr[12], &ip->daddr, 4);
		return 1;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return 0;
		__builtin_memcpy(key->addr, &ip6->daddr, 16);
		return 1;
	}
	return 0;
}


/* ---- published ports ------------------------------------------------------------------------------- */

static __always_inline struct patu_xdp_config *config_of(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xdp_config, &zero);
}

static __always_inline int ports_published(void)
{
	struct patu_xdp_config *config = config_of();

	return config && config->ports_published;
}

/* The fields of struct patu_xdp_port_counters, in their order (each a __u64). */
enum port_counter {
	INGRESS_TRANSLATED,
	POD_TRANSLATED,
	REPLIES_TRANSLATED,
	SOCKETS_TRANSLATED,
	INGRESS_DELIVERED,
	INGRESS_ISOLATED,
};
_Static_assert(sizeof(struct patu_xdp_port_counters) == (INGRESS_ISOLATED + 1) * sizeof(__u64),
	       "enum port_counter names every field of struct patu_xdp_port_counters");

static __always_inline void count_port(enum port_counter field)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&port_counters, &zero);

	if (c)
		c[field]++;
}

static __always_inline void v4_mapped(__u8 *addr, __be32 v4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], &v4, 4);
}

/*
 * Where addr:port (host order) of protocol is published, or NULL: the entry for exactly that node address,
 * else the one for every address of the node when addr is one of them.
 */
static __always_inline struct patu_xdp_port_dest *published(const __u8 *addr, __u16 port, __u8 protocol, __u8 family)
{
	struct patu_xdp_port_key key = {};
	struct patu_xdp_port_dest *dest;
	struct patu_xdp_pod_key node;

	__builtin_memcpy(key.addr, addr, 16);
	key.port = port;
	key.protocol = protocol;
	key.family = family;
	dest = bpf_map_lookup_elem(&port_map, &key);
	if (dest)
		return dest;
	__builtin_memset(key.addr, 0, 16);
	dest = bpf_map_lookup_elem(&port_map, &key);
	if (!dest)
		return 0;
	__builtin_memcpy(node.addr, addr, 16);
	return bpf_map_lookup_elem(&node_addrs, &node) ? dest : 0;
}

/* A TCP or UDP packet as translation sees it: addresses as 16 bytes (IPv4 mapped), ports in host order. */
struct flow_view {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 protocol;
	__u16 l4_off;	/* from the start of the frame */
};

/*
 * Fills v from a frame; 0 for anything but an unfragmented TCP/UDP packet without IPv4 options or IPv6
 * extension headers, whose L4 header (with its checksum) lies within [data, end).
 */
static __always_inline int view_of(void *data, void *end, struct flow_view *v)
{
	struct ethhdr *eth = data;
	__u16 *ports;
	void *l4;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl != 5 || (ip->frag_off & bpf_htons(PATU_IP_MF | PATU_IP_OFFSET)))
			return 0;
		v->family = 4;
		v->protocol = ip->protocol;
		v4_mapped(v->src, ip->saddr);
		v4_mapped(v->dst, ip->daddr);
		l4 = ip + 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return 0;
		v->family = 6;
		v->protocol = ip6->nexthdr;
		__builtin_memcpy(v->src, &ip6->saddr, 16);
		__builtin_memcpy(v->dst, &ip6->daddr, 16);
		l4 = ip6 + 1;
	} else {
		return 0;
	}
	if (v->protocol == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > end)
			return 0;
	} else if (v->protocol == IPPROTO_UDP) {
		if (l4 + sizeof(struct udphdr) > end)
			return 0;
	} else {
		return 0;
	}
	ports = l4;
	v->sport = bpf_ntohs(ports[0]);
	v->dport = bpf_ntohs(ports[1]);
	v->l4_off = l4 - data;
	return 1;
}

static __always_inline int same_addr(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Remembers how a translated connection's replies get back what the client addressed. */
static __always_inline void remember(const struct flow_view *v, const struct patu_xdp_port_dest *dest)
{
	struct patu_xdp_nat_flow flow = {};
	struct patu_xdp_nat_origin origin = {}, *known;

	__builtin_memcpy(flow.pod_addr, dest->addr, 16);
	__builtin_memcpy(flow.peer_addr, v->src, 16);
	flow.pod_port = dest->port;
	flow.peer_port = v->sport;
	flow.protocol = v->protocol;
	__builtin_memcpy(origin.addr, v->dst, 16);
	origin.port = v->dport;
	/* Written once a connection, not once a packet: an LRU update costs a lock and often an allocation. */
	known = bpf_map_lookup_elem(&nat_back, &flow);
	if (known && known->port == origin.port && same_addr(known->addr, origin.addr))
		return;
	bpf_map_update_elem(&nat_back, &flow, &origin, BPF_ANY);
}

/* RFC 1624: a 16-bit one's complement checksum after one 16-bit word of what it covers changed. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~check + (__u16)~from + (__u32)to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * XDP: a frame for a published port gets the pod's address and port as destination (checksums updated
 * incrementally: frames from a NIC carry complete checksums). Returns the pod's host veth ifindex (0: not
 * translated); the caller tells patu_tcx_ingress, which delivers it to the pod, through the skb metadata.
 */
static __always_inline __u32 xdp_publish(void *data, void *end)
{
	struct flow_view v = {};
	struct patu_xdp_port_dest *found, dest;
	__u16 from[8], to[8], *check, *ports;
	int words, i, udp_unchecked;
	void *l4;

	if (!ports_published() || !view_of(data, end, &v))
		return 0;
	found = published(v.dst, v.dport, v.protocol, v.family);
	if (!found)
		return 0;
	dest = *found;
	remember(&v, &dest);
	/* No IPv4 options, no IPv6 extension headers (view_of): the L4 header is at one of two places. */
	l4 = data + (v.family == 4 ? sizeof(struct ethhdr) + sizeof(struct iphdr)
				   : sizeof(struct ethhdr) + sizeof(struct ipv6hdr));
	if (v.protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > end)
			return 0;
		check = &tcp->check;
		ports = &tcp->source;
	} else {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > end)
			return 0;
		check = &udp->check;
		ports = &udp->source;
	}
	udp_unchecked = v.protocol == IPPROTO_UDP && *check == 0;
	if (v.family == 4) {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) > end)
			return 0;
		words = 2;
		__builtin_memcpy(from, &ip->daddr, 4);
		__builtin_memcpy(to, &dest.addr[12], 4);
		ip->check = csum_replace16(csum_replace16(ip->check, from[0], to[0]), from[1], to[1]);
		__builtin_memcpy(&ip->daddr, &dest.addr[12], 4);
	} else {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

		if ((void *)(ip6 + 1) > end)
			return 0;
		words = 8;
		__builtin_memcpy(from, &ip6->daddr, 16);
		__builtin_memcpy(to, dest.addr, 16);
		__builtin_memcpy(&ip6->daddr, dest.addr, 16);
	}
	if (!udp_unchecked) {
		__u16 sum = *check;

		for (i = 0; i < 8; i++) {
			if (i < words)
				sum = csum_replace16(sum, from[i], to[i]);
		}
		sum = csum_replace16(sum, ports[1], bpf_htons(dest.port));
		if (v.protocol == IPPROTO_UDP && sum == 0)
			sum = 0xffff;
		*check = sum;
	}
	ports[1] = bpf_htons(dest.port);
	count_port(INGRESS_TRANSLATED);
	return dest.ifindex;
}

/*
 * tc: rewrites the source (dst_side 0) or destination (1) address and port of the packet in v, through the
 * checksum helpers, which handle every checksum state of an skb (a pod's packets are CHECKSUM_PARTIAL).
 */
static __always_inline void tc_rewrite(struct __sk_buff *skb, const struct flow_view *v, int dst_side,
				       const __u8 *to_addr, __u16 to_port)
{
	__u32 check_off = v->l4_off + (v->protocol == IPPROTO_TCP ? offsetof(struct tcphdr, check)
								 : offsetof(struct udphdr, check));
	__u64 mangled = v->protocol == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	const __u8 *from_addr = dst_side ? v->dst : v->src;
	__be16 from_port = bpf_htons(dst_side ? v->dport : v->sport);
	__be16 new_port = bpf_htons(to_port);
	__u32 from[4], to[4];
	int i;

	__builtin_memcpy(from, from_addr, 16);
	__builtin_memcpy(to, to_addr, 16);
	if (v->family == 4) {
		__u32 addr_off = sizeof(struct ethhdr) + (dst_side ? offsetof(struct iphdr, daddr) : offsetof(struct iphdr, saddr));

		bpf_l4_csum_replace(skb, check_off, from[3], to[3], BPF_F_PSEUDO_HDR | mangled | sizeof(__u32));
		bpf_l3_csum_replace(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, check), from[3], to[3], sizeof(__u32));
		bpf_skb_store_bytes(skb, addr_off, &to[3], sizeof(__u32), 0);
	} else {
		__u32 addr_off = sizeof(struct ethhdr) + (dst_side ? offsetof(struct ipv6hdr, daddr) : offsetof(struct ipv6hdr, saddr));

		for (i = 0; i < 4; i++)
			bpf_l4_csum_replace(skb, check_off, from[i], to[i], BPF_F_PSEUDO_HDR | mangled | sizeof(__u32));
		bpf_skb_store_bytes(skb, addr_off, to, 16, 0);
	}
	bpf_l4_csum_replace(skb, check_off, from_port, new_port, mangled | sizeof(__u16));
	bpf_skb_store_bytes(skb, v->l4_off + (dst_side ? 2 : 0), &new_port, sizeof(new_port), 0);
}

/*
 * A reply of a translated connection leaving a pod for somewhere off its bridge: sent on by the route to its
 * destination, from the pod's host veth straight to that device (bpf_redirect_neigh). The host stack would
 * drop it as a martian: it now comes from one of the node's own addresses.
 */
static __always_inline int forward_reply(struct __sk_buff *skb, const struct flow_view *v)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	fib.ifindex = skb->ifindex;
	fib.l4_protocol = v->protocol;
	fib.sport = bpf_htons(v->sport);
	fib.dport = bpf_htons(v->dport);
	if (v->family == 4) {
		fib.family = 2; /* AF_INET */
		__builtin_memcpy(&fib.ipv4_src, &v->src[12], 4);
		__builtin_memcpy(&fib.ipv4_dst, &v->dst[12], 4);
	} else {
		fib.family = 10; /* AF_INET6 */
		__builtin_memcpy(fib.ipv6_src, v->src, 16);
		__builtin_memcpy(fib.ipv6_dst, v->dst, 16);
	}
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return PATU_TCX_NEXT;
	return bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
}

/*
 * tc, on what a pod sends: the pod's replies on a translated connection get back the node address and host
 * port the client addressed; a packet to a published port gets the pod's address and container port.
 * Returns 1 for a reply that was translated, 2 for a request, 0 otherwise; v holds the packet as it now is.
 */
static __always_inline int tc_publish(struct __sk_buff *skb, struct flow_view *v)
{
	struct patu_xdp_nat_flow flow = {};
	struct patu_xdp_nat_origin *origin, back;
	struct patu_xdp_port_dest *found, dest;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (!view_of(data, end, v)) {
		if (skb->len <= end - data || bpf_skb_pull_data(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr)
								 + sizeof(struct tcphdr)) != 0)
			return 0;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		if (!view_of(data, end, v))
			return 0;
	}
	__builtin_memcpy(flow.pod_addr, v->src, 16);
	__builtin_memcpy(flow.peer_addr, v->dst, 16);
	flow.pod_port = v->sport;
	flow.peer_port = v->dport;
	flow.protocol = v->protocol;
	origin = bpf_map_lookup_elem(&nat_back, &flow);
	if (origin) {
		back = *origin;
		tc_rewrite(skb, v, 0, back.addr, back.port);
		__builtin_memcpy(v->src, back.addr, 16);
		v->sport = back.port;
		count_port(REPLIES_TRANSLATED);
		return 1;
	}
	found = published(v->dst, v->dport, v->protocol, v->family);
	if (!found)
		return 0;
	dest = *found;
	remember(v, &dest);
	tc_rewrite(skb, v, 1, dest.addr, dest.port);
	__builtin_memcpy(v->dst, dest.addr, 16);
	v->dport = dest.port;
	count_port(POD_TRANSLATED);
	return 2;
}

SEC("tc")
int patu_tcx_deliver(struct __sk_buff *skb)
{
	struct patu_xdp_pod_key key;
	struct patu_xdp_pod_dest *dest;
	struct ethhdr *eth;
	void *data, *end;
	int found;

	if (ports_published()) {
		struct flow_view v = {};
		int translated = tc_publish(skb, &v);

		if (translated == 1) {
			/* A reply: to a local pod it is delivered below, anywhere else it skips the host stack. */
			struct patu_xdp_pod_key peer;

			__builtin_memcpy(peer.addr, v.dst, 16);
			if (!bpf_map_lookup_elem(&pod_dest, &peer))
				return forward_reply(skb, &v);
		}
	}
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	found = destination_of(data, end, &key);

	if (!found && skb->len > (void *)end - data) {
		/* Headers not in the linear part (rare on a veth): pull the most an IPv6 header needs. */
		if (bpf_skb_pull_data(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr)) == 0) {
			data = (void *)(long)skb->data;
			end = (void *)(long)skb->data_end;
			found = destination_of(data, end, &key);
		}
	}
	if (!found)
		goto pass;
	dest = bpf_map_lookup_elem(&pod_dest, &key);
	if (!dest || dest->ifindex == skb->ifindex)
		goto pass;
	eth = data;
	if ((void *)(eth + 1) > end || !same_mac(eth->h_dest, dest->mac))
		goto pass; /* for the gateway (routed) or not resolved yet: the bridge and the stack decide */
	count_pod(skb->ifindex, 1, skb->len);
	return bpf_redirect_peer(dest->ifindex, 0);
pass:
	count_pod(skb->ifindex, 0, 0);
	return PATU_TCX_NEXT;
}

/* What the deny rules look at: source address (network order, IPv4 in src[0]), protocol, destination port. */
struct packet_facts {
	__u32 src[4];
	__u8 family;
	__u8 protocol;
	__u8 has_port;
	__u16 port;
};

static __always_inline void read_port(void *l4, void *end, struct packet_facts *facts)
{
	__be16 *ports = l4;	/* TCP and UDP both start with source port, destination port */

	if (facts->protocol != IPPROTO_TCP && facts->protocol != IPPROTO_UDP)
		return;
	if ((void *)(ports + 2) > end)
		return;
	facts->port = bpf_ntohs(ports[1]);
	facts->has_port = 1;
}

static __always_inline int parse(void *data, void *end, struct packet_facts *facts)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return 0;
		facts->family = 4;
		facts->src[0] = ip->saddr;
		facts->protocol = ip->protocol;
		if (!(ip->frag_off & bpf_htons(PATU_IP_OFFSET)))
			read_port((void *)ip + ip->ihl * 4, end, facts);
		return 1;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return 0;
		facts->family = 6;
		__builtin_memcpy(facts->src, &ip6->saddr, 16);
		/* Extension headers are not walked: their packets match rules without ports only. */
		facts->protocol = ip6->nexthdr;
		read_port(ip6 + 1, end, facts);
		return 1;
	}
	return 0;
}

static __always_inline int rule_matches(const struct patu_xdp_rule *rule, const struct packet_facts *facts)
{
	if (rule->family != facts->family)
		return 0;
	if ((facts->src[0] & rule->mask[0]) != rule->addr[0] || (facts->src[1] & rule->mask[1]) != rule->addr[1]
	    || (facts->src[2] & rule->mask[2]) != rule->addr[2] || (facts->src[3] & rule->mask[3]) != rule->addr[3])
		return 0;
	if (rule->protocol && rule->protocol != facts->protocol)
		return 0;
	if (rule->port_last)
		return facts->has_port && facts->port >= rule->port_first && facts->port <= rule->port_last;
	return 1;
}

SEC("xdp")
int patu_xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex;
	struct patu_xdp_device_counters *device = bpf_map_lookup_elem(&device_counters, &ifindex);
	struct patu_xdp_config *config = config_of();
	struct packet_facts facts = {};
	__u32 slots = config ? config->rule_slots : 0;
	__u32 translated_for;

	if (parse(data, end, &facts)) {
		for (__u32 i = 0; i < PATU_XDP_MAX_RULES && i < slots; i++) {
			/* The key lives apart from the loop counter: the verifier must see the counter grow. */
			__u32 slot = i;
			struct patu_xdp_rule *rule = bpf_map_lookup_elem(&deny_rules, &slot);
			struct patu_xdp_rule_counters *counters;

			if (!rule || !rule_matches(rule, &facts))
				continue;
			counters = bpf_map_lookup_elem(&rule_counters, &slot);
			if (counters) {
				counters->dropped_packets++;
				counters->dropped_bytes += end - data;
			}
			if (device) {
				device->dropped_packets++;
				device->dropped_bytes += end - data;
			}
			return XDP_DROP;
		}
	}
	translated_for = xdp_publish(data, end);
	if (device)
		device->passed_packets++;
	if (translated_for && bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct patu_xdp_meta)) == 0) {
		struct patu_xdp_meta *meta = (void *)(long)ctx->data_meta;

		if ((void *)(meta + 1) <= (void *)(long)ctx->data) {
			meta->magic = PATU_XDP_META_MAGIC;
			meta->ifindex = translated_for;
		}
	}
	return XDP_PASS;
}

/* Whether the policy bundle isolates the pod behind host veth ifindex for ingress (docs/veth-hooks.md). */
static __always_inline int isolated(__u32 ifindex)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&policy_isolated, &zero);

	return inner && bpf_map_lookup_elem(inner, &ifindex);
}

/*
 * A packet from the network, already translated to a published port of the pod behind host veth ifindex,
 * handed straight to the pod's eth0 (bpf_redirect_peer): routing, conntrack, the bridge and the host veth are
 * skipped. What the forwarding path would have done is done here: the MACs become those the bridge would
 * have put (source: the route's device, i.e. the pod's gateway; destination: the pod's neighbour entry, both
 * from bpf_fib_lookup, which also says whether this device forwards at all), and the TTL or hop limit goes
 * down by one. Left to the stack, unchanged: a pod policy isolates for ingress (its veth's egress hook, which
 * a redirect skips, decides there), a pod whose neighbour entry is not resolved yet (the stack resolves it),
 * a TTL about to expire (the stack answers with ICMP), and whatever the FIB does not route.
 */
static __always_inline int deliver_translated(struct __sk_buff *skb, __u32 ifindex)
{
	struct bpf_fib_lookup fib = {};
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u8 macs[12];
	long rc;

	if (isolated(ifindex)) {
		count_port(INGRESS_ISOLATED);
		return PATU_TCX_NEXT;
	}
	if ((void *)(eth + 1) > end)
		return PATU_TCX_NEXT;
	fib.ifindex = skb->ingress_ifindex;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__be16 before, after;

		if ((void *)(ip + 1) > end || ip->ttl <= 1)
			return PATU_TCX_NEXT;
		fib.family = 2; /* AF_INET */
		fib.tos = ip->tos;
		fib.l4_protocol = ip->protocol;
		fib.ipv4_src = ip->saddr;
		fib.ipv4_dst = ip->daddr;
		rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
		if (rc != BPF_FIB_LKUP_RET_SUCCESS)
			return PATU_TCX_NEXT;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		ip = data + sizeof(struct ethhdr);
		if ((void *)(ip + 1) > end)
			return PATU_TCX_NEXT;
		/* TTL and protocol share a 16-bit word of the header checksum. */
		before = *(__be16 *)&ip->ttl;
		after = bpf_htons(bpf_ntohs(before) - 0x0100);
		bpf_l3_csum_replace(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, check), before, after, sizeof(__u16));
		bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, ttl), &after, sizeof(after), 0);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u8 hops;

		if ((void *)(ip6 + 1) > end || ip6->hop_limit <= 1)
			return PATU_TCX_NEXT;
		fib.family = 10; /* AF_INET6 */
		fib.l4_protocol = ip6->nexthdr;
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
		hops = ip6->hop_limit - 1;
		rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
		if (rc != BPF_FIB_LKUP_RET_SUCCESS)
			return PATU_TCX_NEXT;
		bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + offsetof(struct ipv6hdr, hop_limit), &hops, 1, 0);
	} else {
		return PATU_TCX_NEXT;
	}
	__builtin_memcpy(macs, fib.dmac, 6);
	__builtin_memcpy(&macs[6], fib.smac, 6);
	bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0);
	count_port(INGRESS_DELIVERED);
	return bpf_redirect_peer(ifindex, 0);
}

/*
 * tcx ingress of a device without native XDP, listed in publishDevices: the same translation of published
 * ports as patu_xdp_ingress makes, on the skb, and the same hand-off to the pod as patu_tcx_ingress (no deny
 * list here: that one needs XDP).
 */
SEC("tc")
int patu_tcx_publish(struct __sk_buff *skb)
{
	struct flow_view v = {};
	struct patu_xdp_port_dest *found, dest;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (!ports_published())
		return PATU_TCX_NEXT;
	if (!view_of(data, end, &v)) {
		if (skb->len <= end - data || bpf_skb_pull_data(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr)
								 + sizeof(struct tcphdr)) != 0)
			return PATU_TCX_NEXT;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		if (!view_of(data, end, &v))
			return PATU_TCX_NEXT;
	}
	found = published(v.dst, v.dport, v.protocol, v.family);
	if (!found)
		return PATU_TCX_NEXT;
	dest = *found;
	remember(&v, &dest);
	tc_rewrite(skb, &v, 1, dest.addr, dest.port);
	count_port(INGRESS_TRANSLATED);
	return deliver_translated(skb, dest.ifindex);
}

/*
 * tcx ingress of the ingress devices, right after their XDP program: a packet XDP translated for a published
 * port (it says so in the skb metadata) goes straight to the pod. Everything else goes on to the stack.
 */
SEC("tc")
int patu_tcx_ingress(struct __sk_buff *skb)
{
	struct patu_xdp_meta *meta = (void *)(long)skb->data_meta;
	void *data = (void *)(long)skb->data;

	/* The metadata is exactly what patu_xdp_ingress wrote (nothing else on this device writes any). */
	if ((void *)(meta + 1) > data || meta->magic != PATU_XDP_META_MAGIC)
		return PATU_TCX_NEXT;
	return deliver_translated(skb, meta->ifindex);
}

/* ---- the node's own sockets ------------------------------------------------------------------------- */

/*
 * cgroup connect/sendmsg hooks: a socket of the node (the initial network namespace; pods are served on
 * their veths) addressing a published port is given the pod's address and port before the kernel routes
 * anything, once a connection (or once a datagram for unconnected UDP), so its packets need no
 * translation and no state in either direction. Such a UDP socket's replies are given back the address
 * the application used in recvmsg.
 */
static __always_inline int of_the_node(struct bpf_sock_addr *ctx)
{
	return bpf_get_netns_cookie(ctx) == bpf_get_netns_cookie(0);
}

static __always_inline void sock_remember(struct bpf_sock_addr *ctx, const struct patu_xdp_port_dest *dest,
					  const __u8 *addr, __u16 port)
{
	struct patu_xdp_sock_flow flow = {};
	struct patu_xdp_nat_origin origin = {};

	flow.cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(flow.addr, dest->addr, 16);
	flow.port = dest->port;
	__builtin_memcpy(origin.addr, addr, 16);
	origin.port = port;
	bpf_map_update_elem(&sock_nat_back, &flow, &origin, BPF_ANY);
}

static __always_inline int sock_publish4(struct bpf_sock_addr *ctx)
{
	struct patu_xdp_port_dest *found, dest;
	__u8 addr[16];
	__u16 port = bpf_ntohs(ctx->user_port);
	__u8 protocol = ctx->protocol;
	__u32 pod;

	if ((protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) || !ports_published() || !of_the_node(ctx))
		return 1;
	v4_mapped(addr, ctx->user_ip4);
	found = published(addr, port, protocol, 4);
	if (!found)
		return 1;
	dest = *found;
	if (protocol == IPPROTO_UDP)
		sock_remember(ctx, &dest, addr, port);
	__builtin_memcpy(&pod, &dest.addr[12], 4);
	ctx->user_ip4 = pod;
	ctx->user_port = bpf_htons(dest.port);
	count_port(SOCKETS_TRANSLATED);
	return 1;
}

static __always_inline int sock_publish6(struct bpf_sock_addr *ctx)
{
	struct patu_xdp_port_dest *found, dest;
	__u32 words[4], pod[4];
	__u8 *addr = (__u8 *)words;
	__u16 port = bpf_ntohs(ctx->user_port);
	__u8 protocol = ctx->protocol;
	int mapped;

	if ((protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) || !ports_published() || !of_the_node(ctx))
		return 1;
	words[0] = ctx->user_ip6[0];
	words[1] = ctx->user_ip6[1];
	words[2] = ctx->user_ip6[2];
	words[3] = ctx->user_ip6[3];
	/* An IPv4-mapped address on an IPv6 socket is keyed as the IPv4 address it is. */
	mapped = words[0] == 0 && words[1] == 0 && words[2] == bpf_htonl(0xffff);
	found = published(addr, port, protocol, mapped ? 4 : 6);
	if (!found)
		return 1;
	dest = *found;
	if (protocol == IPPROTO_UDP)
		sock_remember(ctx, &dest, addr, port);
	__builtin_memcpy(pod, dest.addr, 16);
	ctx->user_ip6[0] = pod[0];
	ctx->user_ip6[1] = pod[1];
	ctx->user_ip6[2] = pod[2];
	ctx->user_ip6[3] = pod[3];
	ctx->user_port = bpf_htons(dest.port);
	count_port(SOCKETS_TRANSLATED);
	return 1;
}

SEC("cgroup/connect4")
int patu_sock_connect4(struct bpf_sock_addr *ctx)
{
	return sock_publish4(ctx);
}

SEC("cgroup/connect6")
int patu_sock_connect6(struct bpf_sock_addr *ctx)
{
	return sock_publish6(ctx);
}

SEC("cgroup/sendmsg4")
int patu_sock_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_publish4(ctx);
}

SEC("cgroup/sendmsg6")
int patu_sock_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_publish6(ctx);
}

SEC("cgroup/recvmsg4")
int patu_sock_recvmsg4(struct bpf_sock_addr *ctx)
{
	struct patu_xdp_sock_flow flow = {};
	struct patu_xdp_nat_origin *origin;
	__u32 addr;

	flow.cookie = bpf_get_socket_cookie(ctx);
	v4_mapped(flow.addr, ctx->user_ip4);
	flow.port = bpf_ntohs(ctx->user_port);
	origin = bpf_map_lookup_elem(&sock_nat_back, &flow);
	if (!origin)
		return 1;
	__builtin_memcpy(&addr, &origin->addr[12], 4);
	ctx->user_ip4 = addr;
	ctx->user_port = bpf_htons(origin->port);
	return 1;
}

SEC("cgroup/recvmsg6")
int patu_sock_recvmsg6(struct bpf_sock_addr *ctx)
{
	struct patu_xdp_sock_flow flow = {};
	struct patu_xdp_nat_origin *origin;
	__u32 words[4];

	flow.cookie = bpf_get_socket_cookie(ctx);
	words[0] = ctx->user_ip6[0];
	words[1] = ctx->user_ip6[1];
	words[2] = ctx->user_ip6[2];
	words[3] = ctx->user_ip6[3];
	__builtin_memcpy(flow.addr, words, 16);
	flow.port = bpf_ntohs(ctx->user_port);
	origin = bpf_map_lookup_elem(&sock_nat_back, &flow);
	if (!origin)
		return 1;
	__builtin_memcpy(words, origin->addr, 16);
	ctx->user_ip6[0] = words[0];
	ctx->user_ip6[1] = words[1];
	ctx->user_ip6[2] = words[2];
	ctx->user_ip6[3] = words[3];
	ctx->user_port = bpf_htons(origin->port);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
