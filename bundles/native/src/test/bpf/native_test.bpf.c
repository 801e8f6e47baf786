// SPDX-License-Identifier: GPL-2.0
/*
 * Fixture for the native layer's tests: one map of each shape the facade must handle and
 * programs for each attach path it offers. Compiled by BpfFixture with clang -target bpf.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Plain hash map for update/lookup/delete/keys: key = test id, value = test payload. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} test_hash SEC(".maps");

/* Calls of the sockops programs, one slot per CPU: key 0 counts v1, key 1 counts v2. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} sockops_calls SEC(".maps");

/* Target for attaching the sk_msg program; never populated. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} test_sockhash SEC(".maps");

static __always_inline void count_call(__u32 slot)
{
	__u64 *calls = bpf_map_lookup_elem(&sockops_calls, &slot);

	if (calls)
		*calls += 1;
}

SEC("sockops")
int count_sockops(struct bpf_sock_ops *ctx)
{
	count_call(0);
	return 1;
}

/* Same program, other counter: proves that BpfLink.updateProgram swapped the attached program. */
SEC("sockops")
int count_sockops_v2(struct bpf_sock_ops *ctx)
{
	count_call(1);
	return 1;
}

SEC("sk_msg")
int pass_msg(struct sk_msg_md *msg)
{
	return SK_PASS;
}

/* tcx order: tc_marks_first sets a mark; tc_records_mark stores the mark it finds in tc_seen[0]
 * and counts its runs in tc_seen[1].  Attached appended and at the head, they prove the head ran first. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tc_seen SEC(".maps");

#define TEST_MARK 0x7a11
#define TCX_NEXT -1

SEC("tc")
int tc_marks_first(struct __sk_buff *skb)
{
	skb->mark = TEST_MARK;
	return TCX_NEXT;
}

SEC("tc")
int tc_records_mark(struct __sk_buff *skb)
{
	__u32 seen = 0, runs = 1;
	__u64 *v = bpf_map_lookup_elem(&tc_seen, &seen);

	if (v)
		*v = skb->mark;
	v = bpf_map_lookup_elem(&tc_seen, &runs);
	if (v)
		*v += 1;
	return TCX_NEXT;
}

/* Socket iterator: counts the established TCP sockets whose local or remote port is iter_port,
 * in the network namespace the iterator was created in. */
struct sock_common {
	unsigned short skc_family;
	unsigned char skc_state;
	__u16 skc_num;
	__u16 skc_dport;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

/* [0]: the port to look for (set by the test), [1]: sockets found. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} iter_found SEC(".maps");

SEC("iter/tcp")
int count_tcp_sockets(struct bpf_iter__tcp *ctx)
{
	struct sock_common *sk = ctx->sk_common;
	__u32 zero = 0, one = 1;
	__u64 *port, *found;

	port = bpf_map_lookup_elem(&iter_found, &zero);
	if (!sk || !port || sk->skc_state != 1 /* TCP_ESTABLISHED */)
		return 0;
	if (sk->skc_num != *port && __builtin_bswap16(sk->skc_dport) != *port)
		return 0;
	found = bpf_map_lookup_elem(&iter_found, &one);
	if (found)
		*found += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
