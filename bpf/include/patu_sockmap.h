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
#define PATU_PROG_SOCKOPS      "patu_sockops"
#define PATU_PROG_SK_MSG       "patu_sk_msg"

#define PATU_MAX_LOCAL_PODS 4096
#define PATU_MAX_SOCKETS    65536

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

/* Value of sockmap_stats, one per CPU (the agent sums CPUs).  Size 48. */
struct patu_sockmap_counters {
	__u64 msgs_redirected;	  /* offset 0:  host byte order */
	__u64 bytes_redirected;	  /* offset 8:  host byte order */
	__u64 msgs_passed;	  /* offset 16: host byte order; no peer socket, went the normal path */
	__u64 bytes_passed;	  /* offset 24: host byte order */
	__u64 sockets_added;	  /* offset 32: host byte order */
	__u64 sockets_add_failed; /* offset 40: host byte order */
};

#endif /* PATU_SOCKMAP_H */
