/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel-internal types policy.bpf.c's socket iterators read, as CO-RE
 * views (see patu_kernel.h for the idea): libbpf relocates every field
 * access against the running kernel's BTF, and looks through the kernel's
 * anonymous unions by field name.  Nothing here crosses to the Java agent.
 */
#ifndef PATU_POLICY_KERNEL_H
#define PATU_POLICY_KERNEL_H

#include <linux/types.h>
#include <linux/in6.h>

/* include/net/tcp_states.h */
#define PATU_TCP_ESTABLISHED 1
#define PATU_TCP_SYN_SENT    2
#define PATU_TCP_SYN_RECV    3
#define PATU_TCP_FIN_WAIT1   4
#define PATU_TCP_FIN_WAIT2   5
#define PATU_TCP_CLOSE_WAIT  8
#define PATU_TCP_LAST_ACK    9
#define PATU_TCP_CLOSING     11

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;		/* local port, host byte order */
	unsigned short skc_family;
	unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct bpf_iter_meta {
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

struct patu_udp_sock_view;	/* struct udp_sock: only its first member, the sock_common, is read */

struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct sock_common *udp_sk;	/* declared as struct udp_sock * in the kernel; it starts with its sock_common */
} __attribute__((preserve_access_index));

/* Kfunc (6.5+), callable from iter/tcp and iter/udp: aborts the socket;
 * TCP sends a reset to the peer and fails the owner's calls with ECONNABORTED. */
extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

#endif /* PATU_POLICY_KERNEL_H */
