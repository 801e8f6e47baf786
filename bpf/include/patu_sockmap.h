/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Patu socket redirection: every struct and constant that crosses the
 * boundary between sockmap.bpf.c and the Java agent.
 *
 * The Java side mirrors these layouts with MemoryLayout and checks them
 * against the BTF of the compiled object, so the rules are strict:
 * fixed-width types only, no bitfields, no implicit padding (every struct
 * is a multiple of its alignment by construction), byte order stated on
 * every field.
 *
 * Addresses are always 16 bytes: IPv4 travels as v4-mapped IPv6
 * (::ffff:a.b.c.d). One key shape for both families keeps one map per
 * purpose, and an AF_INET6 socket talking to an IPv4 peer (which the
 * kernel reports with v4-mapped addresses) then matches the same entry
 * as a plain AF_INET socket would.
 */
#ifndef PATU_SOCKMAP_H
#define PATU_SOCKMAP_H

#include <linux/types.h>

/* Map names: the agent finds the maps and programs by these names. */
#define PATU_MAP_LOCAL_PODS    "local_pods"
#define PATU_MAP_SOCK_HASH     "sock_hash"
#define PATU_MAP_SOCKMAP_STATS "sockmap_stats"
#define PATU_MAP_POD_STATS     "pod_stats"
#define PATU_MAP_CONN_STATE    "conn_state"
#define PATU_MAP_POLICY        "redirect_policy"
#define PATU_PROG_SOCKOPS      "patu_sockops"
#define PATU_PROG_SK_MSG       "patu_sk_msg"

#define PATU_MAX_LOCAL_PODS 4096
#define PATU_MAX_SOCKETS    65536

/*
 * Only accelerate (see sockmap.bpf.c, "Which path a message takes").
 *
 * A message shorter than patu_redirect_policy.small_msg_bytes is small.
 * Once one side of a connection has sent small_run_msgs small messages in a
 * row without the other side sending anything, that direction is a stream
 * of small writes, which the plain TCP path batches (Nagle, autocorking)
 * where a redirect wakes the reader once per message.  TCP through
 * tcp_bpf does not batch them, so the writer's socket then leaves
 * sock_hash, for the plain TCP path.  The agent writes the thresholds from
 * its configuration.
 *
 * On a connection whose MSS is at least jumbo_mss (both ends on the
 * node-local jumbo MTU, docs/mtu.md), plain TCP moves 64 KB segments with
 * one wake-up each and beats a redirect for every write size up to
 * jumbo_msg_bytes: there a message shorter than jumbo_msg_bytes counts as
 * small.  Writes of that size and more, and request/response traffic, stay
 * redirected.  A connection at a 1500-byte MTU keeps small_msg_bytes.
 *
 * Backpressure: a redirect charges the reader's receive memory but never
 * waits for room, so past a limit the writer takes the TCP path, whose
 * window makes it wait.  Redirected bytes count against the same receive
 * memory as TCP's, so the limit depends on the reader's receive buffer:
 *  - at least PATU_ROOMY_RCVBUF: half of it, which leaves TCP room for what
 *    it sends before its window closes; switching is cheap.  A reader gets
 *    rcvbuf_bytes (SO_RCVBUF, so net.core.rmem_max caps it) once TCP first
 *    carries a backpressured direction to it, unless the application chose
 *    a size: earlier would lock the buffer of every redirected socket, and
 *    a connection that ends up on TCP (a small-write stream) then runs
 *    without autotuning, at about a third more CPU per byte.
 *    Until then such a reader is treated as if it had that buffer already.
 *  - smaller, and not to be raised (the application chose it, or
 *    net.core.rmem_max is too low): queue_limit_bytes, far above the
 *    buffer, because TCP's first segments after the switch are dropped and
 *    its window collapses; only a reader that really falls behind should
 *    pay that.
 * The writer redirects again once the reader is below a quarter of the
 * limit and has read everything TCP carried.
 */
#define PATU_ROOMY_RCVBUF (2 << 20)
/* The only key of the one-entry redirect_policy array. */
#define PATU_POLICY_KEY 0

/* patu_conn_dir.plain: why a direction takes the TCP path now (0: it redirects). */
#define PATU_PLAIN_SMALL_WRITES (1u << 0)
#define PATU_PLAIN_NO_PEER      (1u << 1)	/* it sent while the peer socket was not in sock_hash */
#define PATU_PLAIN_BACKPRESSURE (1u << 2)
#define PATU_PLAIN_LEFT_MAP     (1u << 3)	/* a small-write stream's socket left sock_hash: TCP for good */

/* patu_conn_dir.flags */
#define PATU_CONN_RCVBUF_TRIED  (1u << 0)	/* raising its receive buffer was tried (see grow_receive_buffer) */

/* The only key of the one-entry sockmap_stats array. */
#define PATU_SOCKMAP_STATS_KEY 0

/* patu_pod_value.flags: socket redirection is enabled for this pod. */
#define PATU_POD_F_REDIRECT (1u << 0)

/* Key of local_pods and pod_stats: one pod address.  Size 16. */
struct patu_pod_key {
	__u8 addr[16];		/* offset 0: IPv6 address, network byte order; IPv4 as ::ffff:a.b.c.d */
};

/* Value of local_pods.  Size 8. */
struct patu_pod_value {
	__u32 ifindex;		/* offset 0: host-side interface index of the pod, host byte order */
	__u32 flags;		/* offset 4: PATU_POD_F_* bits, host byte order */
};

/*
 * Key of sock_hash: one TCP socket as seen from its own side.  Size 40.
 * Ports are widened to __u32 so the struct has no padding and the Java
 * side reads plain ints; they hold numbers 0..65535.
 */
struct patu_sock_key {
	__u8 local_addr[16];	/* offset 0:  network byte order; IPv4 as ::ffff:a.b.c.d */
	__u8 remote_addr[16];	/* offset 16: network byte order; IPv4 as ::ffff:a.b.c.d */
	__u32 local_port;	/* offset 32: host byte order */
	__u32 remote_port;	/* offset 36: host byte order */
};

/* Value of pod_stats, one per pod and per CPU (the agent sums CPUs).  Size 16. */
struct patu_pod_counters {
	__u64 msgs_redirected;	/* offset 0: host byte order; messages this pod sent through a socket redirect */
	__u64 bytes_redirected;	/* offset 8: host byte order; their payload bytes */
};

/* Value of sockmap_stats, one per CPU (the agent sums CPUs).  Size 96. */
struct patu_sockmap_counters {
	__u64 msgs_redirected;	  /* offset 0:  host byte order */
	__u64 bytes_redirected;	  /* offset 8:  host byte order */
	__u64 msgs_passed;	  /* offset 16: host byte order; sent on the plain TCP path */
	__u64 bytes_passed;	  /* offset 24: host byte order */
	__u64 sockets_added;	  /* offset 32: host byte order */
	__u64 sockets_add_failed; /* offset 40: host byte order */
	__u64 to_plain_small;	  /* offset 48: host byte order; a direction became a small-write stream */
	__u64 to_plain_no_peer;	  /* offset 56: host byte order; a direction sent before its peer socket was in sock_hash */
	__u64 to_plain_full;	  /* offset 64: host byte order; a reader held more than its limit (backpressure) */
	__u64 back_to_redirect;	  /* offset 72: host byte order; a direction on the TCP path redirects again */
	__u64 conns_untracked;	  /* offset 80: host byte order; connections without a conn_state record (map full) */
	__u64 sockets_left;	  /* offset 88: host byte order; sockets of small-write streams that left sock_hash */
};

/* Value of redirect_policy, written by the agent.  Size 24. */
struct patu_redirect_policy {
	__u32 small_msg_bytes;	/* offset 0: host byte order; a message shorter than this is small */
	__u32 small_run_msgs;	/* offset 4: host byte order; that many small messages in a row make a stream; 0: never */
	__u32 queue_limit_bytes;	/* offset 8: host byte order; limit for readers with a small buffer; 0: no backpressure */
	__u32 rcvbuf_bytes;	/* offset 12: host byte order; receive buffer for readers held back; 0: leave it */
	__u32 jumbo_msg_bytes;	/* offset 16: host byte order; on a jumbo connection a message shorter than this is small */
	__u32 jumbo_mss;	/* offset 20: host byte order; a writer's MSS from which its connection is jumbo; 0: never */
};

/*
 * Value of conn_state, one per redirected connection, keyed like sock_hash
 * but with the lower endpoint (see local_is_lower) as "local", so both
 * sockets find the same record.  BPF creates and deletes these.  Size 48.
 */
struct patu_conn_dir {
	__u32 small_run;	/* offset 0: host byte order; small messages sent in a row without the other side sending */
	__u32 plain;		/* offset 4: host byte order; PATU_PLAIN_* bits, 0 while redirecting */
	__u64 sock;		/* offset 8: host byte order; kernel address of the sending socket, read through bpf_rdonly_cast */
	__u32 flags;		/* offset 16: host byte order; PATU_CONN_* bits of that socket */
	__u32 unused;		/* offset 20 */
};

struct patu_conn_state {
	struct patu_conn_dir dir[2];	/* offset 0: [0] sent by the lower endpoint, [1] by the higher one */
};

#endif /* PATU_SOCKMAP_H */
