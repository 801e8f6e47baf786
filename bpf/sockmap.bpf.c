// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket redirection between pods on the same node.
 *
 * When two local pods talk TCP, the bytes normally go down one pod's stack,
 * across a veth, the bridge, another veth and up the other pod's stack.
 * patu_sockops puts both ends of such a connection into sock_hash once it
 * is established; patu_sk_msg, attached to sock_hash, then hands every
 * message a pod sends straight to the receive queue of the peer socket.
 *
 * The agent decides which pods take part (local_pods, PATU_POD_F_REDIRECT);
 * today it enables every pod it networks.  Known cost: ingress redirect wakes
 * the receiver once per message, so streams of tiny writes (64 B) run slower
 * than on the plain path (bench/run.sh measures it); making redirection pay
 * off for every workload is the next step.
 */
#include <linux/bpf.h>
#include <linux/socket.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "patu_sockmap.h"

/* linux/socket.h only defines these for the kernel. */
#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* Pods on this node, by address; the agent adds an entry per pod and
 * removes it on delete. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_MAX_LOCAL_PODS);
	__type(key, struct patu_pod_key);
	__type(value, struct patu_pod_value);
} local_pods SEC(".maps");

/* Established pod-to-pod sockets, keyed by their own view of the 4-tuple.
 * The kernel drops a socket from the map when it closes.  The value is
 * the socket itself; __u32 is what user space sees (a socket cookie or fd). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, PATU_MAX_SOCKETS);
	__type(key, struct patu_sock_key);
	__type(value, __u32);
} sock_hash SEC(".maps");

/* Node-wide counters, one slot per CPU so no atomics are needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct patu_sockmap_counters);
} sockmap_stats SEC(".maps");

/* Per-pod counters keyed by the sending pod's address.  The agent owns the
 * entries: BPF only bumps existing ones, so a deleted pod cannot be brought
 * back to life by a late message and the map never fills up behind the
 * agent's back. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PATU_MAX_LOCAL_PODS);
	__type(key, struct patu_pod_key);
	__type(value, struct patu_pod_counters);
} pod_stats SEC(".maps");

static __always_inline struct patu_sockmap_counters *node_counters(void)
{
	__u32 key = PATU_SOCKMAP_STATS_KEY;

	return bpf_map_lookup_elem(&sockmap_stats, &key);
}

/* Write an IPv4 address (network order, as the context gives it) as
 * ::ffff:a.b.c.d, the form the agent stores IPv4 pods in. */
static __always_inline void v4_mapped(__u8 addr[16], __u32 ip4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], &ip4, 4);
}

/* The context's IPv6 words are already in network order; copying them
 * keeps the bytes in wire order.  v4-mapped peers of AF_INET6 sockets
 * arrive here already in the mapped form.  The loads are volatile because
 * the verifier only allows 4-byte reads of these context fields, and clang
 * would otherwise merge two neighbouring words into one 8-byte load. */
static __always_inline void v6_copy(__u8 addr[16], const volatile __u32 *ctx_ip6)
{
	__u32 w;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		w = ctx_ip6[i];
		__builtin_memcpy(&addr[i * 4], &w, 4);
	}
}

/*
 * remote_port in the sock_ops and sk_msg contexts holds the big-endian
 * 16-bit port, but on little-endian kernels it sits in the upper half of
 * the 32-bit field (the kernel shifts it left by 16); other kernels and
 * architectures leave it in the lower half.  A valid port never exceeds
 * 0xffff, so anything larger must be the shifted form.
 */
static __always_inline __u32 remote_port_to_host(__u32 raw)
{
	if (raw > 0xffff)
		raw >>= 16;
	return bpf_ntohs((__u16)raw);
}

static __always_inline int pod_redirect_enabled(const __u8 addr[16])
{
	struct patu_pod_key key;
	struct patu_pod_value *pod;

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	pod = bpf_map_lookup_elem(&local_pods, &key);
	return pod && (pod->flags & PATU_POD_F_REDIRECT);
}

SEC("sockops")
int patu_sockops(struct bpf_sock_ops *skops)
{
	struct patu_sock_key key = {};
	struct patu_sockmap_counters *stats;
	long err;

	/* Only fully established connections: the peer's socket exists by now
	 * (or will on the other side's callback), and listeners never carry
	 * data. */
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;

	if (skops->family == AF_INET) {
		v4_mapped(key.local_addr, skops->local_ip4);
		v4_mapped(key.remote_addr, skops->remote_ip4);
	} else if (skops->family == AF_INET6) {
		v6_copy(key.local_addr, skops->local_ip6);
		v6_copy(key.remote_addr, skops->remote_ip6);
	} else {
		return 1;
	}
	key.local_port = skops->local_port;
	key.remote_port = remote_port_to_host(skops->remote_port);

	/* Both ends must be pods on this node that opted in: a redirect needs
	 * the peer socket in this kernel, and either side can opt out. */
	if (!pod_redirect_enabled(key.local_addr) ||
	    !pod_redirect_enabled(key.remote_addr))
		return 1;

	/* BPF_NOEXIST: a key already present belongs to a live socket (closed
	 * ones leave the map), so never replace it. */
	err = bpf_sock_hash_update(skops, &sock_hash, &key, BPF_NOEXIST);

	stats = node_counters();
	if (stats) {
		if (err == 0)
			stats->sockets_added++;
		else
			stats->sockets_add_failed++;
	}
	/* The return value of a sockops program only matters for callbacks
	 * that ask for a reply; these two do not. */
	return 1;
}

SEC("sk_msg")
int patu_sk_msg(struct sk_msg_md *msg)
{
	struct patu_sock_key peer = {};
	struct patu_sockmap_counters *stats;
	struct patu_pod_counters *pod;
	struct patu_pod_key sender;
	__u32 size = msg->size;

	/* Only sockets patu_sockops inserted reach this program, so the family
	 * is one of the two; anything else simply takes the normal path. */
	if (msg->family == AF_INET) {
		v4_mapped(peer.local_addr, msg->remote_ip4);
		v4_mapped(peer.remote_addr, msg->local_ip4);
	} else if (msg->family == AF_INET6) {
		v6_copy(peer.local_addr, msg->remote_ip6);
		v6_copy(peer.remote_addr, msg->local_ip6);
	} else {
		return SK_PASS;
	}
	/* The peer sees our ports the other way round. */
	peer.local_port = remote_port_to_host(msg->remote_port);
	peer.remote_port = msg->local_port;

	stats = node_counters();

	/* BPF_F_INGRESS: queue the data on the peer's receive side, as if it
	 * had arrived from the wire.  If the peer is not in the map (closed,
	 * or its insert failed) the helper sets nothing and returns SK_DROP;
	 * returning SK_PASS regardless sends the message the normal way, so
	 * a missed lookup costs speed, never data. */
	if (bpf_msg_redirect_hash(msg, &sock_hash, &peer, BPF_F_INGRESS) == SK_PASS) {
		if (stats) {
			stats->msgs_redirected++;
			stats->bytes_redirected += size;
		}
		/* The sender's address is the peer key's remote side. */
		__builtin_memcpy(sender.addr, peer.remote_addr, sizeof(sender.addr));
		pod = bpf_map_lookup_elem(&pod_stats, &sender);
		if (pod) {
			pod->msgs_redirected++;
			pod->bytes_redirected += size;
		}
	} else if (stats) {
		stats->msgs_passed++;
		stats->bytes_passed += size;
	}
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
