#!/usr/bin/env bash
# Patu published-port benchmark: UDP from an "outside" namespace to node-address:hostPort, delivered to a pod,
# through Patu's eBPF translation (datapath-xdp: XDP on the ingress device) against the reference portmap
# plugin (iptables DNAT + conntrack), on the same pod of one agent, in paired alternating runs.
#
#   portmap  'patu:disable xdp': the pod's second published port (portmap, chained by hand as libcni would)
#            is DNATed by iptables in PREROUTING, forwarded through the bridge
#   xdp      'patu:enable xdp': the pod's first published port (Patu's own portMappings) is translated by
#            XDP on the ingress device before an skb exists, then handed by tcx on the same device straight
#            to the pod's eth0 (bpf_redirect_peer: no routing, conntrack or bridge)
#
# The outside is a namespace whose veth to the host is the agent's ingress device (native XDP on a veth; the
# outside's end has tx checksumming off, as a NIC delivers complete checksums). The sender is iperf3 in the
# outside namespace, i.e. the frames reach the ingress device as skbs from its peer, not as xdp_frames from a
# NIC: this measures the translation and forwarding cost, not XDP's gain from running before the skb exists.
# Figures: packets/s the pod's iperf3 received, and CPU per received packet (busy jiffies of the machine).
# Every run is checked: the pod's host veth (the bridge's way in) must have transmitted, or Patu's fast path
# delivered (ingress_delivered), at least what the receiver got, and an xdp run's ingress_translated counter
# must cover it.
#
# Then the same two paths, and a drop flood, with frames fed to the ingress device as xdp_frames, as a NIC
# would feed them (bench/xdp-inject.c: BPF_PROG_RUN live frames, the method of xdp-trafficgen, whose own build
# fails on this kernel): COUNT frames on one CPU (taskset), the rate at which that CPU took them through
# the ingress path. Each frame's headers are written back before the program under test runs (tail call):
# the frames' pages are recycled, and a translation, DNAT or forwarding rewrites them in place.
#   ports portmap  a program returning XDP_PASS, then the stack: iptables DNAT, forwarding to the pod
#   ports xdp      Patu's ingress program (translation), then its tcx hand-off straight to the pod
#   drop nft       a program returning XDP_PASS, then an nftables netdev ingress rule dropping the frames
#   drop xdp       Patu's ingress program with a deny rule for the frames (XDP_DROP)
# A ports run is valid if the pod's host veth transmitted, or the fast path delivered, at least 90 % of the
# frames; a drop run if the
# dropping rule counted every frame.
#
# Usage: bench/published-ports.sh [--reps N] [--secs S] [--size B] [--frames COUNT]   (as root)
# Results: bench/results/ports-<timestamp>/{results.md,raw.csv}
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/as-root.sh"

bench_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
patu_home=$repo/distribution/target/patu
reps=5
secs=5
size=64
frames=2000000

usage() {
	cat >&2 <<EOF
usage: $0 [--reps N] [--secs S] [--size B]
  --reps N   pairs of runs (portmap, xdp, alternating; default $reps); medians are reported
  --secs S   seconds per run (default $secs)
  --size B   UDP payload in bytes (default $size; at least 18 for the live frames)
  --frames N live frames a run (default $frames)
Needs the distribution built in $patu_home, the reference CNI plugins in /usr/lib/cni, iperf3, jq, bpftool, ethtool,
gcc, clang and libbpf-dev (for bench/xdp-inject).
EOF
	exit 2
}
die() { echo "bench: error: $*" >&2; exit 1; }
say() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--reps) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	--secs) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
	--size) [ $# -ge 2 ] || usage; size=$2; shift 2 ;;
	--frames) [ $# -ge 2 ] || usage; frames=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "bench: unknown option '$1'" >&2; usage ;;
	esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps needs a positive integer, got '$reps'"
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "--secs needs a positive integer, got '$secs'"
[[ $size =~ ^[1-9][0-9]*$ ]] && [ "$size" -le 1472 ] || die "--size is 1..1472 bytes, got '$size'"
[ -x "$patu_home/bin/patu" ] || die "no Patu build in $patu_home (mvn -B -q verify -DskipTests first)"
[ -x /usr/lib/cni/portmap ] || die "no reference portmap plugin in /usr/lib/cni (apt-get install containernetworking-plugins)"
for pkg in iperf3 jq bpftool ethtool; do
	command -v "$pkg" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y --no-install-recommends "$pkg" >/dev/null; }
done

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "/tmp/patu-ports-$id.XXXX")
out=$bench_dir/results/ports-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
bpffs=/sys/fs/bpf/patu-ports-$id
bridge=ppp$id
sock=$tmp/patu.sock
pod=pp-$id-pod
outside=pp-$id-out
ingress=ppi$id
xdp_port=$((20000 + RANDOM % 5000))
portmap_port=$((xdp_port + 5000))
subnet=""
for third in $(shuf -i 1-254); do
	if ! ip -4 route show | grep -q "^10\.209\.$third\." && ! ip -4 addr show | grep -q " 10\.209\.$third\."; then
		subnet=10.209.$third.0/24; out_net=10.210.$third; break
	fi
done
[ -n "$subnet" ] || die "no free /24 under 10.209.0.0/16"
agent_pid=""
server_pid=""
added=0
hostport_chains_before=$(iptables-save -t nat 2>/dev/null | grep -c '^:CNI-HOSTPORT-DNAT' || true)

portmap() { # portmap ADD|DEL: the reference plugin, chained after Patu's result as libcni runs a conflist
	jq -n --argjson prev "$(cat "$tmp/result.json" 2>/dev/null || echo '{}')" --argjson p "$portmap_port" '{
		cniVersion: "1.0.0", name: "patu-ports", type: "portmap", capabilities: {portMappings: true},
		runtimeConfig: {portMappings: [{hostPort: $p, containerPort: 5201, protocol: "tcp"},
		                               {hostPort: $p, containerPort: 5201, protocol: "udp"}]},
		prevResult: $prev}' \
		| env CNI_COMMAND="$1" CNI_CONTAINERID="$pod" CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
			/usr/lib/cni/portmap
}
netconf() { # Patu's own entry, publishing the first port
	jq -n --argjson p "$xdp_port" '{cniVersion: "1.0.0", name: "patu-ports", type: "patu",
		capabilities: {portMappings: true},
		runtimeConfig: {portMappings: [{hostPort: $p, containerPort: 5201, protocol: "tcp"},
		                               {hostPort: $p, containerPort: 5201, protocol: "udp"}]}}'
}
cni() { env CNI_COMMAND="$1" CNI_CONTAINERID="$pod" CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 \
	CNI_PATH="$patu_home/cni" PATU_SOCKET="$sock" "$patu_home/cni/patu"; }

cleanup() {
	set +e
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null
	if [ "$added" = 1 ]; then
		portmap DEL >/dev/null 2>&1
		netconf | cni DEL >/dev/null 2>&1
	fi
	ip netns del "$pod" 2>/dev/null
	ip netns del "$outside" 2>/dev/null
	if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null; wait "$agent_pid" 2>/dev/null; fi
	rm -rf "$bpffs"
	ip link del "$bridge" 2>/dev/null
	[ -d "$cg" ] && rmdir "$cg"
	# portmap's DEL keeps the chains all its attachments share: removed if this run made them and they are empty.
	if [ "$hostport_chains_before" = 0 ] && [ -z "$(iptables -t nat -S CNI-HOSTPORT-DNAT 2>/dev/null | grep -v '^-N')" ]; then
		iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
		iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
		iptables -t nat -D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ 2>/dev/null
		for c in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do
			iptables -t nat -F "$c" 2>/dev/null; iptables -t nat -X "$c" 2>/dev/null
		done
	fi
	nft delete table netdev "pp_drop_$id" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

cg_root=/sys/fs/cgroup/unified
mountpoint -q "$cg_root" || { mkdir -p "$cg_root"; mount -t cgroup2 none "$cg_root"; }
cg=$cg_root/patu-ports-$id
mkdir "$cg"

# The outside and its veth first: the agent attaches XDP to its ingress devices at start.
ip netns add "$outside"
ip link add "$ingress" type veth peer name eth0 netns "$outside"
ip addr add "$out_net.1/24" dev "$ingress" && ip link set "$ingress" up
ip -n "$outside" addr add "$out_net.2/24" dev eth0 && ip -n "$outside" link set eth0 up && ip -n "$outside" link set lo up
ip netns exec "$outside" ethtool -K eth0 tx off >/dev/null

cat >"$tmp/patu.json" <<EOF
{
  "io.patu.lifecycle": { "bridgeName": "$bridge", "mtu": 1500, "socketPath": "$sock", "stateDir": "$tmp/state" },
  "io.patu.ipam": { "subnet": "$subnet", "gateway": "", "stateDir": "$tmp/state" },
  "io.patu.datapath.sockmap": { "bpffsDir": "$bpffs", "cgroupPath": "$cg" },
  "io.patu.datapath.xdp": { "bpffsDir": "$bpffs", "nodeCgroup": "$cg", "ingressDevices": ["$ingress"] },
  "io.patu.egress": { "table": "patu_ports_$id" },
  "io.patu.policy": { "bpffsDir": "$bpffs", "policyDir": "$tmp/policy" },
  "io.patu.metrics": { "port": 0 }
}
EOF
"$patu_home/bin/patu" run --config "$tmp/patu.json" </dev/null >"$tmp/agent.log" 2>&1 &
agent_pid=$!
for i in $(seq 600); do
	[ -e "$bpffs/xdp/link_sock_connect4" ] && echo '{"cniVersion":"1.0.0"}' | PATU_SOCKET=$sock CNI_COMMAND=VERSION "$patu_home/cni/patu" >/dev/null 2>&1 && break
	kill -0 "$agent_pid" 2>/dev/null || { tail -n 30 "$tmp/agent.log" >&2; die "the agent exited during start-up"; }
	[ "$i" -lt 600 ] || die "the agent's xdp feature did not start within 60 s"
	sleep 0.1
done
shell() { PATU_SOCKET=$sock "$patu_home/cni/patu" --shell "$1"; }

ip netns add "$pod"
netconf | cni ADD >"$tmp/result.json" || die "ADD: $(cat "$tmp/result.json")"
added=1
addr=$(jq -r '.ips[0].address | split("/")[0]' "$tmp/result.json")
veth=$(jq -r '.interfaces[0].name' "$tmp/result.json")
portmap ADD >/dev/null || die "portmap ADD failed"
say "pod $addr ($veth); $out_net.1:$xdp_port by Patu (xdp), $out_net.1:$portmap_port by portmap; ingress device $ingress"
ip netns exec "$pod" iperf3 -s >"$tmp/server.log" 2>&1 &
server_pid=$!
for i in $(seq 50); do ip netns exec "$pod" ss -ltn | grep -q ":5201 " && break; sleep 0.1; done

busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
stat() { cat "/sys/class/net/$1/statistics/$2"; }
port_counter() { # port_counter FIELD: port_counters' FIELD summed over CPUs (0 when the feature is off)
	[ -e "$bpffs/xdp/port_counters" ] || { echo 0; return; }
	bpftool -j map dump pinned "$bpffs/xdp/port_counters" | jq --arg f "$1" '[.[0].formatted.values[].value[$f]] | add'
}
translated() { port_counter ingress_translated; }
delivered() { port_counter ingress_delivered; } # handed straight to the pod, past the bridge
set_path() { # set_path portmap|xdp
	if [ "$1" = xdp ]; then
		shell "patu:enable xdp" >/dev/null
		for i in $(seq 100); do [ -e "$bpffs/xdp/port_map" ] && ip link show "$ingress" | grep -q prog/xdp && return; sleep 0.1; done
		die "datapath-xdp did not attach"
	else
		shell "patu:disable xdp" >/dev/null
		for i in $(seq 100); do [ ! -e "$bpffs/xdp" ] && return; sleep 0.1; done
		die "datapath-xdp did not detach"
	fi
}

hz=$(getconf CLK_TCK)
echo "rep,path,packets_per_s,cpu_ns_per_packet,valid" >"$out/raw.csv"
for rep in $(seq "$reps"); do
	for path in portmap xdp; do
		set_path "$path"
		port=$([ "$path" = xdp ] && echo "$xdp_port" || echo "$portmap_port")
		sleep 1  # replayed pods and ports in place
		ip netns exec "$outside" iperf3 -c "$out_net.1" -p "$port" -u -b 0 -l "$size" -t 1 >/dev/null 2>&1 || true   # neighbours, warm-up
		t0=$(translated); f0=$(delivered); tx0=$(stat "$veth" tx_packets); c0=$(busy)
		json=$(ip netns exec "$outside" iperf3 -c "$out_net.1" -p "$port" -u -b 0 -l "$size" -t "$secs" -J) \
			|| die "iperf3 to $out_net.1:$port ($path) failed: $(jq -r '.error? // empty' <<<"$json")"
		c1=$(busy); tx1=$(stat "$veth" tx_packets); t1=$(translated); f1=$(delivered)
		received=$(jq '.end.sum.packets - .end.sum.lost_packets' <<<"$json")
		seconds=$(jq '.end.sum.seconds' <<<"$json")
		pps=$(awk -v r="$received" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')
		nspp=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v r="$received" 'BEGIN { printf "%.1f", c * 1e9 / hz / r }')
		valid=$(( tx1 - tx0 + f1 - f0 >= received ? 1 : 0 ))
		[ "$path" = xdp ] && [ $((t1 - t0)) -lt "$received" ] && valid=0
		echo "$rep,$path,$pps,$nspp,$valid" >>"$out/raw.csv"
		say "rep $rep $path: $pps packets/s, CPU a packet $nspp ns (through the bridge $((tx1 - tx0)), straight to the pod $((f1 - f0)), XDP translated $((t1 - t0)), received $received)$([ "$valid" = 1 ] || echo ' INVALID')"
	done
done
set_path xdp

# --- live frames ---------------------------------------------------------------------------------------------
gcc -O2 -Wall -o "$tmp/xdp-inject" "$bench_dir/xdp-inject.c" -lbpf || die "cannot build xdp-inject (gcc, libbpf-dev)"
clang -target bpf -O2 -g -Wall -I/usr/include/x86_64-linux-gnu -c "$bench_dir/xdp-inject.bpf.c" -o "$tmp/xdp-inject.bpf.o" \
	|| die "cannot build xdp-inject.bpf.o (clang)"
ingress_ifindex=$(cat "/sys/class/net/$ingress/ifindex")
ingress_mac=$(cat "/sys/class/net/$ingress/address")
patu_prog=$(bpftool -j link show pinned "$bpffs/xdp/link_ingress_$ingress_ifindex" | jq '.prog_id')
[[ $patu_prog =~ ^[0-9]+$ ]] || die "no XDP link of Patu on $ingress"
drop_port=$((portmap_port + 1))
shell "patu:xdp add $out_net.2/32 udp $drop_port" >/dev/null
nft -f - <<EOF
table netdev pp_drop_$id {
	chain ingress {
		type filter hook ingress device "$ingress" priority 0; policy accept;
		ip saddr $out_net.2 udp dport $((drop_port + 1)) counter drop
	}
}
EOF
rule_dropped() { shell "patu:xdp rules" | awk -v p="$drop_port" '$0 ~ "udp " p { print $(NF - 1) }'; }
nft_dropped() { nft list chain netdev "pp_drop_$id" ingress | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
inject() { # inject PROG PORT: frames a second
	taskset -c 1 "$tmp/xdp-inject" "$1" "$ingress_ifindex" "$ingress_mac" "$out_net.2" "$out_net.1" "$2" "$size" "$frames" | awk '{ print $3 }'
}
echo "rep,test,path,frames_per_s,valid" >"$out/live.csv"
for rep in $(seq "$reps"); do
	for path in portmap xdp; do
		prog=$([ "$path" = xdp ] && echo "$patu_prog" || echo pass)
		port=$([ "$path" = xdp ] && echo "$xdp_port" || echo "$portmap_port")
		tx0=$(stat "$veth" tx_packets); f0=$(delivered)
		fps=$(inject "$prog" "$port")
		tx1=$(stat "$veth" tx_packets); f1=$(delivered)
		valid=$(( (tx1 - tx0 + f1 - f0) * 10 >= frames * 9 ? 1 : 0 ))
		echo "$rep,ports,$path,$fps,$valid" >>"$out/live.csv"
		say "live rep $rep ports $path: $fps frames/s on one CPU (through the bridge $((tx1 - tx0)), straight to the pod $((f1 - f0)), of $frames)$([ "$valid" = 1 ] || echo ' INVALID')"
	done
	for path in nft xdp; do
		if [ "$path" = xdp ]; then d0=$(rule_dropped); fps=$(inject "$patu_prog" "$drop_port"); d1=$(rule_dropped)
		else d0=$(nft_dropped); fps=$(inject pass $((drop_port + 1))); d1=$(nft_dropped); fi
		valid=$(( d1 - d0 >= frames ? 1 : 0 ))
		echo "$rep,drop,$path,$fps,$valid" >>"$out/live.csv"
		say "live rep $rep drop $path: $fps frames/s on one CPU (dropped by the rule $((d1 - d0)) of $frames)$([ "$valid" = 1 ] || echo ' INVALID')"
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
	echo "# Published port: UDP $size B from outside to node:hostPort, Patu (XDP) against portmap (iptables)"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo ?), $reps pairs of ${secs} s runs, medians; $(nproc) vCPU, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| UDP payload | portmap packets/s | xdp packets/s | ratio | CPU ns/packet: portmap | xdp | ratio |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	line="| $size B"
	for col in 3 4; do
		row=()
		for path in portmap xdp; do
			row+=("$(awk -F, -v p="$path" -v c="$col" 'NR > 1 && $2 == p && $5 == 1 { print $c }' "$out/raw.csv" | median)")
		done
		line+=" | ${row[0]} | ${row[1]} | $(awk -v a="${row[1]}" -v b="${row[0]}" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }')"
	done
	echo "$line |"
	echo
	echo "Runs failing their check (left out of the medians): $(awk -F, 'NR > 1 && $5 != 1' "$out/raw.csv" | wc -l)"
	echo
	echo "## Live frames ($frames frames of $size B a run, one CPU, medians of $reps)"
	echo
	echo "| test | reference | reference frames/s | Patu XDP frames/s | ratio |"
	echo "|---|---|---:|---:|---:|"
	for t in "ports portmap" "drop nft"; do
		set -- $t
		ref=$(awk -F, -v t="$1" -v p="$2" 'NR > 1 && $2 == t && $3 == p && $5 == 1 { print $4 }' "$out/live.csv" | median)
		ours=$(awk -F, -v t="$1" 'NR > 1 && $2 == t && $3 == "xdp" && $5 == 1 { print $4 }' "$out/live.csv" | median)
		echo "| $1 | $2 | $ref | $ours | $(awk -v a="$ours" -v b="$ref" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }') |"
	done
	echo
	echo "Live runs failing their check (left out of the medians): $(awk -F, 'NR > 1 && $5 != 1' "$out/live.csv" | wc -l)"
} >"$out/results.md"
cat "$out/results.md"
