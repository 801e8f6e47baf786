// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The program xdp-inject runs on each live frame first. BPF_PROG_RUN recycles the frames' pages without
 * writing them again, and whatever rewrote the headers on the way (a translation, a DNAT, forwarding's MAC
 * rewrite and TTL decrement) would show in the next frames; so the headers are written back from the template
 * each time, and then the program under test runs (a tail call), or XDP_PASS hands the frame to the stack.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define HEADERS 42	/* Ethernet, IPv4 without options, UDP */

const volatile unsigned char header[HEADERS] = {};
const volatile int chain = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} under_test SEC(".maps");

SEC("xdp")
int inject_restore(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if ((void *)(data + HEADERS) > end)
		return XDP_ABORTED;
#pragma unroll
	for (int i = 0; i < HEADERS; i++)
		data[i] = header[i];
	if (chain)
		bpf_tail_call(ctx, &under_test, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
