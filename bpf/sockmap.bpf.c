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
 * today it enables every pod it networks.
 *
 * Which path a message takes ("only accelerate").  A redirect costs the
 * sender little and wakes the reader once per message.  That wins for
 * request/response traffic and for large writes, but a stream of small
 * writes runs at least as fast on the plain TCP path, where Nagle and
 * autocorking batch them and the reader wakes once per batch.  And a
 * redirect never waits for the reader: it charges the reader's receive
 * memory without a limit, where TCP's window would stop the writer.
 * conn_state keeps, per direction of a connection, the run of small
 * messages and the reason it takes the TCP path, if any; the reader's
 * queue is read from its socket (patu_kernel.h).  A small-write stream's
 * writer then leaves sock_hash altogether (patu_sockops, RTT callback):
 * TCP through tcp_bpf sends such writes one segment each; its reader
 * follows on the next segment it receives.  On a connection between pods
 * at the jumbo node-local MTU (docs/mtu.md) plain TCP also beats a redirect
 * for streams of writes up to 64 KB, so there the same rule takes streams of
 * such writes to TCP (jumbo_msg_bytes, jumbo_mss in patu_redirect_policy).
 *
 * Switching paths must keep the byte stream in order.  tcp_bpf's recvmsg
 * reads the redirected queue before the TCP receive queue, so going from
 * redirect to TCP is always safe: everything redirected earlier is read
 * first.  Going back is safe only once the reader has read every byte the
 * writer gave TCP (its copied_seq equals our write_seq); until then the
 * direction stays on TCP.  The same rule covers a writer that sends before
 * its peer socket is in sock_hash (the passive side's callback can come
 * after the active side's first write).
 */
#include <linux/bpf.h>
#include <linux/socket.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <bpf/bpf_core_read.h>

#include "patu_kernel.h"
#include "patu_sockmap.h"

/* linux/socket.h only defines these for the kernel. */
#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#ifndef SOL_SOCKET
#define SOL_SOCKET 1
#endif
#ifndef SO_RCVBUF
#define SO_RCVBUF 8
#endif
#ifndef EEXIST
#define EEXIST 17
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

/* One record per redirected connection; see patu_conn_state.  Created by
 * patu_sockops when a socket enters sock_hash, deleted when it closes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PATU_MAX_SOCKETS);
	__type(key, struct patu_sock_key);
	__type(value, struct patu_conn_state);
} conn_state SEC(".maps");

/* Thresholds of the small-write rule, from the agent's configuration. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct patu_redirect_policy);
} redirect_policy SEC(".maps");

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

/*
 * Is the key's local endpoint (address, port) the lower one of the two?
 * Any total order works as long as both sides of a connection use the same
 * one; comparing the words as loaded is the cheapest.
 */
static __always_inline int local_is_lower(const struct patu_sock_key *key)
{
	__u32 a, b;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__builtin_memcpy(&a, &key->local_addr[i * 4], 4);
		__builtin_memcpy(&b, &key->remote_addr[i * 4], 4);
		if (a != b)
			return a < b;
	}
	return key->local_port <= key->remote_port;
}

/* The key of a socket's view turned into its peer's view. */
static __always_inline void swap_sides(struct patu_sock_key *to, const struct patu_sock_key *from)
{
	__builtin_memcpy(to->local_addr, from->remote_addr, sizeof(to->local_addr));
	__builtin_memcpy(to->remote_addr, from->local_addr, sizeof(to->remote_addr));
	to->local_port = from->remote_port;
	to->remote_port = from->local_port;
}

/* The sockops context's own view of its socket. */
static __always_inline int sockops_key(struct bpf_sock_ops *skops, struct patu_sock_key *key)
{
	if (skops->family == AF_INET) {
		v4_mapped(key->local_addr, skops->local_ip4);
		v4_mapped(key->remote_addr, skops->remote_ip4);
	} else if (skops->family == AF_INET6) {
		v6_copy(key->local_addr, skops->local_ip6);
		v6_copy(key->remote_addr, skops->remote_ip6);
	} else {
		return -1;
	}
	key->local_port = skops->local_port;
	key->remote_port = remote_port_to_host(skops->remote_port);
	return 0;
}

/*
 * The key of conn_state for a connection seen from one of its sockets: the
 * view itself when its local endpoint is the lower one (*side = 0), else
 * the view turned round in *scratch (*side = 1).  *side is the half of the
 * record that belongs to the view's local socket.
 */
static __always_inline const struct patu_sock_key *conn_key(const struct patu_sock_key *view,
							    struct patu_sock_key *scratch, int *side)
{
	if (local_is_lower(view)) {
		*side = 0;
		return view;
	}
	*side = 1;
	swap_sides(scratch, view);
	return scratch;
}

/* The record of the connection a sockops socket belongs to, and its half. */
static __always_inline struct patu_conn_state *conn_of_sockops(struct bpf_sock_ops *skops,
							       struct patu_sock_key *key, int *side)
{
	struct patu_sock_key scratch = {};

	if (sockops_key(skops, key))
		return 0;
	return bpf_map_lookup_elem(&conn_state, conn_key(key, &scratch, side));
}

/* A closed socket's connection record goes; the other side may have
 * deleted it already. */
static __always_inline void forget_connection(struct bpf_sock_ops *skops)
{
	struct patu_sock_key key = {}, scratch = {};
	int side;

	if (skops->args[1] != BPF_TCP_CLOSE || sockops_key(skops, &key))
		return;
	bpf_map_delete_elem(&conn_state, conn_key(&key, &scratch, &side));
}

/*
 * A reader with a roomy receive buffer can take TCP over from a redirect
 * cheaply (see PATU_ROOMY_RCVBUF), so a reader that needs backpressure
 * gets one, unless its application chose a size itself.  Only ever raised.
 */
static __always_inline void grow_receive_buffer(struct bpf_sock_ops *skops)
{
	struct patu_redirect_policy *policy;
	struct bpf_sock *sk = skops->sk;
	__u32 key = PATU_POLICY_KEY;
	int current = 0, wanted;
	struct tcp_sock *tp;

	policy = bpf_map_lookup_elem(&redirect_policy, &key);
	if (!policy || !policy->rcvbuf_bytes || !sk)
		return;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || (tp->inet_conn.icsk_inet.sk.sk_userlocks & PATU_SOCK_RCVBUF_LOCK))
		return;
	if (bpf_getsockopt(skops, SOL_SOCKET, SO_RCVBUF, &current, sizeof(current)) ||
	    current >= (int)policy->rcvbuf_bytes)
		return;
	wanted = policy->rcvbuf_bytes / 2; /* the kernel doubles it */
	bpf_setsockopt(skops, SOL_SOCKET, SO_RCVBUF, &wanted, sizeof(wanted));
}

/*
 * Whether the socket of this callback holds redirected bytes its
 * application has not read yet: leaving sock_hash drops its psock and the
 * messages queued there (only tcp_bpf reads them, before the TCP queue),
 * while TCP's own queue stays with the socket.  Where the kernel counts
 * those messages (sk_psock.msg_tot_len) only they hold a socket back, so
 * the reader of a fast TCP stream, never quite done with TCP's queue, can
 * leave too.  Elsewhere: any received byte not read yet (redirected bytes
 * are charged to sk_rmem_alloc like TCP's; the segment of a header
 * callback is not charged yet).
 */
static __always_inline int has_unread_bytes(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct sk_psock *psock;
	struct tcp_sock *tp;
	unsigned long data;

	if (!sk)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 1;
	if (bpf_core_field_exists(struct sk_psock, msg_tot_len)) {
		data = (unsigned long)tp->inet_conn.icsk_inet.sk.sk_user_data;
		if (data & PATU_SK_USER_DATA_PSOCK) {
			psock = bpf_rdonly_cast((void *)(data & ~PATU_SK_USER_DATA_FLAGS),
						bpf_core_type_id_kernel(struct sk_psock));
			return psock->msg_tot_len != 0;
		}
	}
	return tp->inet_conn.icsk_inet.sk.sk_backlog.rmem_alloc.counter != 0;
}

/*
 * A small-write stream's writer leaves sock_hash (sk_msg may not change
 * the map): tcp_bpf carries small writes on TCP one segment each, plain
 * TCP batches them.  Its peer follows: it can never be redirected to
 * again, and its own writes find no socket to redirect to.  Both then run
 * plain TCP, in order.  A socket leaves only while no redirected byte
 * waits in it (has_unread_bytes); until then tcp_bpf keeps reading both
 * queues in order, and the next segment or ACK tries again.  Returns
 * whether the socket is on plain TCP for good.
 */
static __always_inline int leave_if_small_writes(struct bpf_sock_ops *skops, const struct patu_sock_key *key,
						 struct patu_conn_dir *mine, const struct patu_conn_dir *theirs)
{
	struct patu_sockmap_counters *stats;

	if (mine->plain & PATU_PLAIN_LEFT_MAP)
		return 1;
	if (!(mine->plain & PATU_PLAIN_SMALL_WRITES) && !(theirs->plain & PATU_PLAIN_LEFT_MAP))
		return 0;
	if (has_unread_bytes(skops))
		return 0;
	if (bpf_map_delete_elem(&sock_hash, key))
		return 0;
	mine->plain |= PATU_PLAIN_LEFT_MAP;
	stats = node_counters();
	if (stats)
		stats->sockets_left++;
	return 1;
}

/*
 * Called for every ACK (RTT callback) and every segment (header callback)
 * a redirected socket receives, i.e. only while TCP carries something for
 * it: a direction switched to TCP, for small writes or backpressure.
 */
static __always_inline void on_tcp_segment(struct bpf_sock_ops *skops)
{
	struct patu_conn_dir *mine, *theirs;
	struct patu_conn_state *conn;
	struct patu_sock_key key = {};
	int side = 0;

	conn = conn_of_sockops(skops, &key, &side);
	if (!conn)
		return;
	mine = &conn->dir[side & 1];
	theirs = &conn->dir[(side & 1) ^ 1];
	if (leave_if_small_writes(skops, &key, mine, theirs)) {
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
					  ~(BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG | BPF_SOCK_OPS_RTT_CB_FLAG));
		return;
	}
	/* We read a direction that needed backpressure: from now on it can
	 * switch at half our buffer (see PATU_ROOMY_RCVBUF). */
	if ((theirs->plain & PATU_PLAIN_BACKPRESSURE) && !(mine->flags & PATU_CONN_RCVBUF_TRIED)) {
		mine->flags |= PATU_CONN_RCVBUF_TRIED;
		grow_receive_buffer(skops);
	}
}

/*
 * The connection's record: whichever side comes first creates it, and
 * each side writes its socket's address into its half, so the other side
 * can read the reader's queue and sequence numbers.  A socket in sock_hash
 * must report when it closes, so the record goes with it; state callbacks
 * are rare (a handful per connection).  RTT callbacks come with every ACK
 * and header callbacks with every segment received, and a redirecting
 * socket receives neither.
 */
static __always_inline void track_connection(struct bpf_sock_ops *skops,
					     const struct patu_sock_key *key,
					     struct patu_sockmap_counters *stats)
{
	struct patu_sock_key scratch = {};
	struct patu_conn_state fresh = {};
	const struct patu_sock_key *ckey;
	struct patu_conn_state *conn;
	struct bpf_sock *sk = skops->sk;
	int side = 0;
	long err;

	ckey = conn_key(key, &scratch, &side);
	err = bpf_map_update_elem(&conn_state, ckey, &fresh, BPF_NOEXIST);
	conn = bpf_map_lookup_elem(&conn_state, ckey);
	if (!conn || !sk) {
		if (err != -EEXIST && stats)
			stats->conns_untracked++;
		return;
	}
	conn->dir[side & 1].sock = (__u64)(unsigned long)sk;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG |
				  BPF_SOCK_OPS_RTT_CB_FLAG | BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG);
}

SEC("sockops")
int patu_sockops(struct bpf_sock_ops *skops)
{
	struct patu_sock_key key = {};
	struct patu_sockmap_counters *stats;
	long err;

	if (skops->op == BPF_SOCK_OPS_STATE_CB) {
		forget_connection(skops);
		return 1;
	}
	if (skops->op == BPF_SOCK_OPS_RTT_CB || skops->op == BPF_SOCK_OPS_PARSE_HDR_OPT_CB) {
		on_tcp_segment(skops);
		return 1;
	}
	/* Only fully established connections: the peer's socket exists by now
	 * (or will on the other side's callback), and listeners never carry
	 * data. */
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (sockops_key(skops, &key))
		return 1;

	/* Both ends must be pods on this node that opted in: a redirect needs
	 * the peer socket in this kernel, and either side can opt out. */
	if (!pod_redirect_enabled(key.local_addr) ||
	    !pod_redirect_enabled(key.remote_addr))
		return 1;

	/* BPF_NOEXIST: a key already present belongs to a live socket (closed
	 * ones leave the map), so never replace it. */
	err = bpf_sock_hash_update(skops, &sock_hash, &key, BPF_NOEXIST);

	stats = node_counters();
	if (err) {
		if (stats)
			stats->sockets_add_failed++;
		return 1;
	}
	if (stats)
		stats->sockets_added++;

	track_connection(skops, &key, stats);
	/* The return value of a sockops program only matters for callbacks
	 * that ask for a reply; these do not. */
	return 1;
}

/* The record of the connection a message travels on, and which half of it
 * belongs to the sender (the other half is the peer's: the key is the
 * peer's view); NULL when the connection has none. */
static __always_inline struct patu_conn_state *conn_of(const struct patu_sock_key *peer, int *side)
{
	struct patu_sock_key scratch = {};
	struct patu_conn_state *conn;
	int peer_side;

	conn = bpf_map_lookup_elem(&conn_state, conn_key(peer, &scratch, &peer_side));
	*side = peer_side ^ 1;
	return conn;
}

/*
 * Whether this message may be redirected (see "Which path a message takes"
 * above); keeps the sender's half of the record up to date.
 */
static __always_inline int may_redirect(struct sk_msg_md *msg, struct patu_conn_state *conn, int side,
					__u32 size, struct patu_sockmap_counters *stats)
{
	struct patu_conn_dir *mine = &conn->dir[side & 1];
	struct patu_conn_dir *theirs = &conn->dir[(side & 1) ^ 1];
	struct tcp_sock *reader = NULL, *writer;
	struct patu_redirect_policy *policy;
	__u32 plain = 0, was = mine->plain;
	__u32 key = PATU_POLICY_KEY;
	__u32 queued, limit, rcvbuf;

	/* We are sending, so the other side's one-way run has ended. */
	if (theirs->small_run)
		theirs->small_run = 0;
	if (was & PATU_PLAIN_LEFT_MAP)
		return 0;
	policy = bpf_map_lookup_elem(&redirect_policy, &key);
	if (policy && policy->small_run_msgs) {
		__u32 small = policy->small_msg_bytes;

		/* The writer's MSS says which MTU its connection runs at. */
		if (policy->jumbo_mss && policy->jumbo_msg_bytes > small) {
			writer = bpf_skc_to_tcp_sock(msg->sk);
			if (writer && writer->mss_cache >= policy->jumbo_mss)
				small = policy->jumbo_msg_bytes;
		}
		if (size >= small)
			mine->small_run = 0;
		else if (mine->small_run < policy->small_run_msgs)
			mine->small_run++;
		if (mine->small_run >= policy->small_run_msgs)
			plain |= PATU_PLAIN_SMALL_WRITES;
	}

	if (theirs->sock)
		reader = bpf_rdonly_cast((void *)(unsigned long)theirs->sock,
					 bpf_core_type_id_kernel(struct tcp_sock));
	if (reader && policy && policy->queue_limit_bytes) {
		queued = reader->inet_conn.icsk_inet.sk.sk_backlog.rmem_alloc.counter;
		rcvbuf = reader->inet_conn.icsk_inet.sk.sk_rcvbuf;
		if (rcvbuf >= PATU_ROOMY_RCVBUF)
			limit = rcvbuf / 2;
		else if (policy->rcvbuf_bytes &&
			 !(reader->inet_conn.icsk_inet.sk.sk_userlocks & PATU_SOCK_RCVBUF_LOCK))
			limit = policy->rcvbuf_bytes / 2; /* what it gets once TCP reaches it */
		else
			limit = policy->queue_limit_bytes;
		if (queued > ((was & PATU_PLAIN_BACKPRESSURE) ? limit / 4 : limit))
			plain |= PATU_PLAIN_BACKPRESSURE;
	}

	/* Back from TCP only when nothing we gave TCP is still unread. */
	if (!plain && was) {
		writer = bpf_skc_to_tcp_sock(msg->sk);
		if (!reader || !writer || writer->write_seq != reader->copied_seq)
			plain = was;
	}

	if (stats) {
		if (plain & ~was & PATU_PLAIN_SMALL_WRITES)
			stats->to_plain_small++;
		if (plain & ~was & PATU_PLAIN_BACKPRESSURE)
			stats->to_plain_full++;
		if (!plain && was)
			stats->back_to_redirect++;
	}
	mine->plain = plain;
	return !plain;
}

SEC("sk_msg")
int patu_sk_msg(struct sk_msg_md *msg)
{
	struct patu_sock_key peer = {};
	struct patu_sockmap_counters *stats;
	struct patu_conn_state *conn;
	struct patu_pod_counters *pod;
	struct patu_pod_key sender;
	__u32 size = msg->size;
	int side = 0;

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

	conn = conn_of(&peer, &side);
	if (conn && !may_redirect(msg, conn, side, size, stats))
		goto plain;

	/* BPF_F_INGRESS: queue the data on the peer's receive side, as if it
	 * had arrived from the wire.  If the peer is not in the map (closed,
	 * or not inserted yet) the helper sets nothing and returns SK_DROP;
	 * returning SK_PASS regardless sends the message the normal way, so
	 * a missed lookup costs speed, never data. */
	if (bpf_msg_redirect_hash(msg, &sock_hash, &peer, BPF_F_INGRESS) != SK_PASS) {
		if (conn) {
			if (stats && !(conn->dir[side & 1].plain & PATU_PLAIN_NO_PEER))
				stats->to_plain_no_peer++;
			conn->dir[side & 1].plain |= PATU_PLAIN_NO_PEER;
		}
		goto plain;
	}
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
	return SK_PASS;
plain:
	if (stats) {
		stats->msgs_passed++;
		stats->bytes_passed += size;
	}
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
