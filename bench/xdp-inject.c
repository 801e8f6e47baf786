// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp-inject: feeds one UDP/IPv4 frame, COUNT times, to an XDP program as live frames (BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES, as xdp-trafficgen does), as if a NIC had received them on device IFINDEX: the
 * program's verdict is carried out (XDP_PASS hands the frame to the stack of that device, XDP_DROP drops it).
 * Prints the frames per second of the run, which executes on the calling CPU. Each frame first goes through
 * xdp-inject.bpf.o (next to this binary), which writes its headers back, then to the program under test.
 *
 * usage: xdp-inject PROG IFINDEX DST_MAC SRC_IP DST_IP DST_PORT PAYLOAD COUNT
 *   PROG  the id of the program under test, or "pass" for none (XDP_PASS: the stack)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Loads the restoring program with the frame's headers, chained to program id `under_test` (0: none). */
static int restoring_program(const char *self, const unsigned char *headers, int under_test)
{
	char path[4096];
	struct bpf_object *object;
	struct bpf_map *rodata = NULL, *map;
	int chain = under_test != 0;

	snprintf(path, sizeof(path), "%s.bpf.o", self);
	object = bpf_object__open_file(path, NULL);
	if (!object)
		return -1;
	bpf_object__for_each_map(map, object) {
		if (strstr(bpf_map__name(map), ".rodata"))
			rodata = map;
	}
	if (!rodata)
		return -1;
	/* .rodata: header[42], then chain (int, 4-aligned at 44) */
	unsigned char init[48] = {0};
	memcpy(init, headers, 42);
	memcpy(init + 44, &chain, sizeof(chain));
	if (bpf_map__set_initial_value(rodata, init, sizeof(init)) || bpf_object__load(object))
		return -1;
	if (chain) {
		int fd = bpf_prog_get_fd_by_id(under_test), key = 0;

		if (fd < 0 || bpf_map_update_elem(bpf_object__find_map_fd_by_name(object, "under_test"), &key, &fd, BPF_ANY))
			return -1;
	}
	return bpf_program__fd(bpf_object__find_program_by_name(object, "inject_restore"));
}

static unsigned short ip_checksum(const void *header, int len)
{
	const unsigned short *words = header;
	unsigned long sum = 0;

	for (int i = 0; i < len / 2; i++)
		sum += words[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

int main(int argc, char **argv)
{
	unsigned char frame[1514] = {0};
	struct ethhdr *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct xdp_md ctx = {0};
	struct timespec t0, t1;
	unsigned int mac[6];
	int prog, payload, len;
	long count;

	if (argc != 9) {
		fprintf(stderr, "usage: %s PROG IFINDEX DST_MAC SRC_IP DST_IP DST_PORT PAYLOAD COUNT\n", argv[0]);
		return 2;
	}
	if (sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
		fprintf(stderr, "not a MAC address: %s\n", argv[3]);
		return 2;
	}
	payload = atoi(argv[7]);
	count = atol(argv[8]);
	if (payload < 18 || payload > 1472 || count < 1) {
		fprintf(stderr, "payload 18..1472 bytes, count >= 1\n");
		return 2;
	}
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = mac[i];
		eth->h_source[i] = i == 0 ? 0x02 : 0x42; /* locally administered */
	}
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + payload);
	if (inet_pton(AF_INET, argv[4], &ip->saddr) != 1 || inet_pton(AF_INET, argv[5], &ip->daddr) != 1) {
		fprintf(stderr, "not IPv4 addresses: %s %s\n", argv[4], argv[5]);
		return 2;
	}
	ip->check = ip_checksum(ip, sizeof(*ip));
	udp->source = htons(40000);
	udp->dest = htons(atoi(argv[6]));
	udp->len = htons(sizeof(*udp) + payload);
	udp->check = 0; /* none, which IPv4 allows */
	len = sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + payload;
	prog = restoring_program(argv[0], frame, strcmp(argv[1], "pass") == 0 ? 0 : atoi(argv[1]));
	if (prog < 0) {
		fprintf(stderr, "cannot load %s.bpf.o chained to program %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}

	ctx.data_end = len;
	ctx.ingress_ifindex = atoi(argv[2]);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .repeat = 0, .batch_size = 64);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long done = 0; done < count; ) {
		/* repeat is a __u32; runs of at most 10 M keep a run interruptible */
		long run = count - done > 10000000 ? 10000000 : count - done;

		opts.repeat = run;
		if (bpf_prog_test_run_opts(prog, &opts)) {
			fprintf(stderr, "BPF_PROG_RUN (live frames): %s\n", strerror(errno));
			return 1;
		}
		done += run;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld %.6f %.0f\n", count, seconds, count / seconds);
	return 0;
}
