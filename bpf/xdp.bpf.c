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
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
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

SEC("tc")
int patu_tcx_deliver(struct __sk_buff *skb)
{
	struct patu_xdp_pod_key key;
	struct patu_xdp_pod_dest *dest;
	struct ethhdr *eth;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	int found = destination_of(data, end, &key);

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
	__u32 zero = 0;
	struct patu_xdp_device_counters *device = bpf_map_lookup_elem(&device_counters, &ifindex);
	struct patu_xdp_config *config = bpf_map_lookup_elem(&xdp_config, &zero);
	struct packet_facts facts = {};
	__u32 slots = config ? config->rule_slots : 0;

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
	if (device)
		device->passed_packets++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
