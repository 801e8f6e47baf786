/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few kernel-internal fields sockmap.bpf.c reads, declared as CO-RE
 * views: preserve_access_index makes clang record each access by type and
 * field name, and libbpf rewrites the offsets against the running kernel's
 * BTF at load time.  Only the fields used are listed; their order and the
 * struct sizes here mean nothing.  This avoids generating a whole vmlinux.h
 * from one kernel at build time.
 *
 * Nothing here crosses to the Java agent.
 */
#ifndef PATU_KERNEL_H
#define PATU_KERNEL_H

#include <linux/types.h>

/* include/net/sock.h: SOCK_RCVBUF_LOCK in sk_userlocks, set when an
 * application chose its receive buffer with SO_RCVBUF. */
#define PATU_SOCK_RCVBUF_LOCK 2

/* include/net/sock.h: flags kept in the low bits of sk_user_data; a
 * socket in a sockmap or sockhash has its sk_psock there, tagged PSOCK. */
#define PATU_SK_USER_DATA_FLAGS 7UL
#define PATU_SK_USER_DATA_PSOCK 4UL

struct sock {
	struct {
		struct {
			int counter;
		} rmem_alloc;		/* sk_rmem_alloc: bytes charged to the receive side */
	} sk_backlog;
	__u8 sk_userlocks;
	int sk_rcvbuf;
	void *sk_user_data;
} __attribute__((preserve_access_index));

/* include/linux/skmsg.h: the sockmap state of a socket in a sockhash. */
struct sk_psock {
	__u32 msg_tot_len;	/* bytes redirected to this socket (ingress_msg) not read yet (newer kernels) */
} __attribute__((preserve_access_index));

struct inet_sock {
	struct sock sk;
} __attribute__((preserve_access_index));

struct inet_connection_sock {
	struct inet_sock icsk_inet;
} __attribute__((preserve_access_index));

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	__u32 write_seq;	/* one past the last byte the application handed to TCP */
	__u32 copied_seq;	/* one past the last byte the application read from TCP */
	__u32 mss_cache;	/* the current effective sending MSS: follows the connection's path MTU */
} __attribute__((preserve_access_index));

/* A read-only, untrusted view of any kernel object with BTF: loads from
 * it cannot fault, and it can never be handed to a helper. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#endif /* PATU_KERNEL_H */
