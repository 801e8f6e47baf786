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

char LICENSE[] SEC("license") = "GPL";
