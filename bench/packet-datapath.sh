#!/usr/bin/env bash
# Patu packet datapath benchmark: pod to pod through tcx delivery (datapath-xdp on) against the bridge
# (datapath-xdp off), on the same two pods of one agent, in paired alternating runs.
#
#   bridge   the plain path: host veth -> bridge -> host veth, as the reference bridge plugin builds it
#            ('patu:disable xdp'; Patu's pods sit on exactly that bridge)
#   tcx      datapath-xdp on: bpf_redirect_peer from the sender's host veth into the receiver ('patu:enable xdp')
#
# Socket redirection is off throughout: the agent's sockmap feature points at the pods' own cgroup (never the
# cgroup v2 root) and is disabled ('patu:disable sockmap') before the pods exist; every TCP run checks that no
# sock_ops program is in effect for that cgroup (bpftool cgroup show ... effective, so one attached by anyone to
# an ancestor counts too) and that nothing is pinned under <bpffs>/sockmap. Without sock_ops no socket enters a
# sockmap, so no sk_msg program runs on the pods' sockets: TCP takes the packet path.
#
# Workloads (client in pod b, server in pod a; both processes in a cgroup v2 of their own):
#   udp       iperf3 UDP, one stream, unlimited rate, payload size(s) given (64 B by default): packets/s the
#             receiver got (iperf3's own count) and CPU per received packet
#   tcp       iperf3 TCP, one stream, write size(s) given (128 KiB by default): Gbit/s and CPU per GB received
#   pingpong  sockperf TCP ping-pong, message size(s) given (64 B by default): latency p50/p99 (sockperf's
#             default, half the round trip) and CPU per transaction (as bench/run.sh runs it)
# CPU: busy jiffies of the whole machine (user+nice+system+irq+softirq) over the run, and CPU time of the pods'
# processes (their cgroup's usage: what softirq work ran in their context is in it).
# Every tcx run is checked against the datapath's own counters (delivered_packets, or delivered_bytes for TCP,
# of the sending pods' host veths must cover what the receivers got) and every bridge run against the receiving
# pods' host veths (tx_packets / tx_bytes must cover it); a run that fails its check is reported INVALID.
#
# Usage: bench/packet-datapath.sh [--reps N] [--secs S] [--sizes "64 1400"] [--tcp-sizes "131072"] [--pingpong "64"]
#        (as root; about 2*N*(S+2) s a size)
# Results: bench/results/packet-<timestamp>/{results.md,raw.csv}
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/as-root.sh"

bench_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
patu_home=$repo/distribution/target/patu
reps=5
secs=5
sizes="64"
tcp_sizes="131072"
pp_sizes="64"

usage() {
	cat >&2 <<EOF
usage: $0 [--reps N] [--secs S] [--sizes "B ..."] [--tcp-sizes "B ..."] [--pingpong "B ..."]
  --reps N     pairs of runs (bridge, tcx, alternating; default $reps); medians are reported
  --secs S     seconds per run (default $secs)
  --sizes "B"  UDP payload sizes in bytes (default "$sizes"; "" skips UDP)
  --tcp-sizes "B"  iperf3 TCP write sizes in bytes (default "$tcp_sizes"; "" skips TCP)
  --pingpong "B"   sockperf TCP ping-pong message sizes in bytes (default "$pp_sizes"; "" skips ping-pong)
Needs the distribution built in $patu_home and iperf3, sockperf, jq, bpftool (installed when missing;
where sockperf is not packaged, ping-pong is skipped, as in bench/run.sh).
EOF
	exit 2
}
die() { echo "bench: error: $*" >&2; exit 1; }
say() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--reps) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	--secs) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
	--sizes) [ $# -ge 2 ] || usage; sizes=$2; shift 2 ;;
	--tcp-sizes) [ $# -ge 2 ] || usage; tcp_sizes=$2; shift 2 ;;
	--pingpong) [ $# -ge 2 ] || usage; pp_sizes=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "bench: unknown option '$1'" >&2; usage ;;
	esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps needs a positive integer, got '$reps'"
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "--secs needs a positive integer, got '$secs'"
for b in $sizes; do [[ $b =~ ^[1-9][0-9]*$ ]] && [ "$b" -le 1472 ] || die "UDP sizes are 1..1472 bytes, got '$b'"; done
for b in $tcp_sizes; do [[ $b =~ ^[1-9][0-9]*$ ]] && [ "$b" -le 1048576 ] || die "TCP write sizes are 1..1048576 bytes, got '$b'"; done
for b in $pp_sizes; do [[ $b =~ ^[1-9][0-9]*$ ]] && [ "$b" -le 65000 ] || die "ping-pong sizes are 1..65000 bytes, got '$b'"; done
[ -n "$sizes$tcp_sizes$pp_sizes" ] || die "nothing to measure: --sizes, --tcp-sizes and --pingpong are all empty"
[ -x "$patu_home/bin/patu" ] || die "no Patu build in $patu_home (mvn -B -q verify -DskipTests first)"
for pkg in iperf3 jq bpftool $([ -z "$pp_sizes" ] || echo sockperf); do
	command -v "$pkg" >/dev/null 2>&1 && continue
	apt-cache show "$pkg" >/dev/null 2>&1 || apt-get update -qq
	if [ "$pkg" = sockperf ] && ! apt-cache show sockperf >/dev/null 2>&1; then
		say "sockperf is not packaged for this distribution: ping-pong is skipped (no substitute is reported as if it were sockperf)"
		pp_sizes=""
		continue
	fi
	apt-get install -y --no-install-recommends "$pkg" >/dev/null
done

id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "/tmp/patu-packet-$id.XXXX")
out=$bench_dir/results/packet-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
bpffs=/sys/fs/bpf/patu-packet-$id
bridge=ppk$id
sock=$tmp/patu.sock
subnet=""
for third in $(shuf -i 1-254); do
	if ! ip -4 route show | grep -q "^10\.208\.$third\." && ! ip -4 addr show | grep -q " 10\.208\.$third\."; then
		subnet=10.208.$third.0/24
		break
	fi
done
[ -n "$subnet" ] || die "no free /24 under 10.208.0.0/16"
agent_pid=""
server_pid=""
pods=()

cleanup() {
	set +e
	for pid in $server_pid; do  # sockperf's server may outlive a SIGTERM
		kill "$pid" 2>/dev/null
		for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	for p in "${pods[@]}"; do
		env CNI_COMMAND=DEL CNI_CONTAINERID="pk-$id-$p" CNI_NETNS="/run/netns/pk-$id-$p" CNI_IFNAME=eth0 \
			CNI_PATH="$patu_home/cni" PATU_SOCKET="$sock" "$patu_home/cni/patu" <"$tmp/netconf.json" >/dev/null 2>&1
		ip netns del "pk-$id-$p" 2>/dev/null
	done
	if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null; wait "$agent_pid" 2>/dev/null; fi
	rm -rf "$bpffs"
	ip link del "$bridge" 2>/dev/null
	if [ -d "$cg" ]; then
		for pid in $(cat "$cg/cgroup.procs"); do kill -9 "$pid"; done  # only this script's processes are in it
		for i in $(seq 20); do grep -q "populated 0" "$cg/cgroup.events" && break; sleep 0.1; done
		rmdir "$cg"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

cg_root=/sys/fs/cgroup/unified
mountpoint -q "$cg_root" || { mkdir -p "$cg_root"; mount -t cgroup2 none "$cg_root"; }
cg=$cg_root/patu-packet-$id
mkdir "$cg"
cat >"$tmp/patu.json" <<EOF
{
  "io.patu.lifecycle": { "bridgeName": "$bridge", "mtu": 1500, "socketPath": "$sock", "stateDir": "$tmp/state" },
  "io.patu.ipam": { "subnet": "$subnet", "gateway": "", "stateDir": "$tmp/state" },
  "io.patu.datapath.sockmap": { "bpffsDir": "$bpffs", "cgroupPath": "$cg" },
  "io.patu.datapath.xdp": { "bpffsDir": "$bpffs", "nodeCgroup": "$cg" },
  "io.patu.policy": { "bpffsDir": "$bpffs", "policyDir": "$tmp/policy" },
  "io.patu.egress": { "table": "patu_packet_$id" },
  "io.patu.metrics": { "listenAddress": "127.0.0.1", "port": 0 }
}
EOF
echo '{"cniVersion":"1.0.0","name":"patu-packet","type":"patu"}' >"$tmp/netconf.json"
"$patu_home/bin/patu" run --config "$tmp/patu.json" </dev/null >"$tmp/agent.log" 2>&1 &
agent_pid=$!
for i in $(seq 600); do
	echo '{"cniVersion":"1.0.0"}' | PATU_SOCKET=$sock CNI_COMMAND=VERSION "$patu_home/cni/patu" >/dev/null 2>&1 && break
	kill -0 "$agent_pid" 2>/dev/null || { tail -n 30 "$tmp/agent.log" >&2; die "the agent exited during start-up"; }
	sleep 0.1
done
shell() { PATU_SOCKET=$sock "$patu_home/cni/patu" --shell "$1"; }
# Socket redirection off before any pod exists (see the header).
sockops_on() { # sock_ops programs in effect for the pods' cgroup, its ancestors' included
	bpftool -j cgroup show "$cg" effective 2>/dev/null | jq -s '[.[][]? | select(.attach_type == "cgroup_sock_ops" or .attach_type == "sock_ops")] | length'
}
sockmap_off() { [ "$(sockops_on)" = 0 ] && [ -z "$(ls -A "$bpffs/sockmap" 2>/dev/null)" ]; }
shell "patu:disable sockmap" >/dev/null
for i in $(seq 100); do sockmap_off && break; sleep 0.1; done
sockmap_off || die "socket redirection still on after 'patu:disable sockmap' (sock_ops on $cg: $(sockops_on))"

declare -A addr veth
for p in a b; do
	ip netns add "pk-$id-$p"
	pods+=("$p")
	result=$(env CNI_COMMAND=ADD CNI_CONTAINERID="pk-$id-$p" CNI_NETNS="/run/netns/pk-$id-$p" CNI_IFNAME=eth0 \
		CNI_PATH="$patu_home/cni" PATU_SOCKET="$sock" "$patu_home/cni/patu" <"$tmp/netconf.json") || die "ADD $p: $result"
	addr[$p]=$(jq -r '.ips[0].address | split("/")[0]' <<<"$result")
	veth[$p]=$(jq -r '.interfaces[0].name' <<<"$result")
done
say "pods a ${addr[a]} (${veth[a]}), b ${addr[b]} (${veth[b]}) on $bridge"
in_cg() { sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }
in_cg ip netns exec "pk-$id-a" iperf3 -s -B "${addr[a]}" >"$tmp/server.log" 2>&1 &
server_pid=$!
for i in $(seq 50); do ip netns exec "pk-$id-a" ss -ltn | grep -q ":5201 " && break; sleep 0.1; done
if [ -n "$pp_sizes" ]; then
	in_cg ip netns exec "pk-$id-a" sockperf sr --tcp -i "${addr[a]}" -p 11111 >"$tmp/sockperf-server.log" 2>&1 &
	server_pid+=" $!"
	for i in $(seq 50); do ip netns exec "pk-$id-a" ss -ltn | grep -q ":11111 " && break; sleep 0.1; done
fi

busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
cg_usage() { awk '$1 == "usage_usec" { print $2 }' "$cg/cpu.stat"; }
stat() { cat "/sys/class/net/$1/statistics/$2"; }
delivered() { # delivered POD packets|bytes: what tcx delivered from POD's host veth, summed over CPUs (0 when no map)
	local ifindex sum=0 hex off
	ifindex=$(cat "/sys/class/net/${veth[$1]}/ifindex")
	[ -e "$bpffs/xdp/pod_counters" ] || { echo 0; return; }
	# Each CPU's value, little-endian: delivered_packets at offset 0, delivered_bytes at 8 (bpf/include/patu_xdp.h).
	[ "$2" = packets ] && off=0 || off=8
	for hex in $(bpftool -j map lookup pinned "$bpffs/xdp/pod_counters" key $(printf '0x%02x 0x%02x 0x%02x 0x%02x' \
			$((ifindex & 255)) $((ifindex >> 8 & 255)) $((ifindex >> 16 & 255)) $((ifindex >> 24))) 2>/dev/null \
			| jq -r --argjson o "$off" '.values[] | .value[$o:$o + 8] | reverse | map(ltrimstr("0x")) | join("")'); do
		sum=$((sum + 16#$hex))
	done
	echo "$sum"
}
set_path() { # set_path bridge|tcx
	if [ "$1" = tcx ]; then
		shell "patu:enable xdp" >/dev/null
		for i in $(seq 100); do [ -e "$bpffs/xdp/link_pod_$(cat "/sys/class/net/${veth[b]}/ifindex")" ] && return; sleep 0.1; done
		die "datapath-xdp did not attach to ${veth[b]}"
	else
		shell "patu:disable xdp" >/dev/null
		for i in $(seq 100); do [ ! -e "$bpffs/xdp" ] && return; sleep 0.1; done
		die "datapath-xdp did not detach"
	fi
}
counters() { # what the checks compare: tcx delivered from b and a, host veth tx towards a and b
	echo "$(delivered b packets) $(delivered b bytes) $(delivered a bytes) $(stat "${veth[a]}" tx_packets)" \
		"$(stat "${veth[a]}" tx_bytes) $(stat "${veth[b]}" tx_bytes)"
}
# One measured run of CMD in pod b: sets out_json (its output), d_* (counter deltas), cpu_j (busy jiffies), cg_us.
measure() {
	local k0 k1 c0 u0
	read -r -a k0 <<<"$(counters)"; c0=$(busy); u0=$(cg_usage)
	run_out=$(in_cg ip netns exec "pk-$id-b" "$@" 2>&1) || die "run failed: $* -> $(tail -n 3 <<<"$run_out" | tr '\n' ' ')"
	cg_us=$(( $(cg_usage) - u0 )); cpu_j=$(( $(busy) - c0 ))
	read -r -a k1 <<<"$(counters)"
	d_bpk=$((k1[0] - k0[0])) d_bby=$((k1[1] - k0[1])) d_aby=$((k1[2] - k0[2]))
	t_apk=$((k1[3] - k0[3])) t_aby=$((k1[4] - k0[4])) t_bby=$((k1[5] - k0[5]))
}
tcp_ok() { sockmap_off && echo "$1" || echo 0; }  # a TCP run with socket redirection on is no TCP-path run
record() { # record REP WORKLOAD PATH VALID METRIC=VALUE...
	local rep=$1 w=$2 p=$3 ok=$4 kv; shift 4
	for kv in "$@"; do echo "$rep,$w,$p,${kv%%=*},${kv#*=},$ok" >>"$out/raw.csv"; done
}
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }
note() { [ "$1" = 1 ] || echo ' INVALID'; }

run_udp() { # run_udp REP PATH SIZE
	local received seconds ok
	ip netns exec "pk-$id-b" iperf3 -c "${addr[a]}" -u -b 0 -l "$3" -t 1 >/dev/null 2>&1 || true  # neighbours, warm-up
	measure iperf3 -c "${addr[a]}" -u -b 0 -l "$3" -t "$secs" -J
	received=$(jq '.end.sum.packets - .end.sum.lost_packets' <<<"$run_out")
	seconds=$(jq '.end.sum.seconds' <<<"$run_out")
	if [ "$2" = tcx ]; then ok=$(( d_bpk >= received ? 1 : 0 )); else ok=$(( t_apk >= received ? 1 : 0 )); fi
	record "$1" "udp-$3" "$2" "$ok" "pps=$(calc "$received / $seconds")" \
		"cpu_ns_pkt=$(calc "$cpu_j * 1e9 / $hz / $received")" "pods_ns_pkt=$(calc "$cg_us * 1e3 / $received")"
	say "udp $3 B rep $1 $2: $(calc "$received / $seconds") packets/s (tcx delivered $d_bpk, bridge to a $t_apk, received $received)$(note "$ok")"
}
run_tcp() { # run_tcp REP PATH WRITE_BYTES
	local bytes ok
	ip netns exec "pk-$id-b" iperf3 -c "${addr[a]}" -l "$3" -t 1 >/dev/null 2>&1 || true
	measure iperf3 -c "${addr[a]}" -l "$3" -t "$secs" -J
	bytes=$(jq '.end.sum_received.bytes' <<<"$run_out")
	if [ "$2" = tcx ]; then ok=$(( d_bby >= bytes ? 1 : 0 )); else ok=$(( t_aby >= bytes ? 1 : 0 )); fi
	ok=$(tcp_ok "$ok")
	record "$1" "tcp-$3" "$2" "$ok" "gbps=$(calc "$(jq '.end.sum_received.bits_per_second' <<<"$run_out") / 1e9")" \
		"cpu_s_gb=$(calc "$cpu_j / $hz / ($bytes / 1e9)")" "pods_s_gb=$(calc "$cg_us / 1e6 / ($bytes / 1e9)")"
	say "tcp $3 B rep $1 $2: $(calc "$bytes * 8 / 1e9 / $secs") Gbit/s (tcx delivered $d_bby B, bridge to a $t_aby B, received $bytes B)$(note "$ok")"
}
run_pp() { # run_pp REP PATH MSG_BYTES: parsed as bench/run.sh parses sockperf
	local txn p50 p99 ok
	ip netns exec "pk-$id-b" sockperf pp --tcp -i "${addr[a]}" -p 11111 -m "$3" -t 1 >/dev/null 2>&1 || true
	measure sockperf pp --tcp -i "${addr[a]}" -p 11111 -m "$3" -t "$secs"
	txn=$(sed -n 's/.*\[Total Run\].*ReceivedMessages=\([0-9]*\).*/\1/p' <<<"$run_out" | head -n 1)
	p50=$(sed -n 's/.*percentile 50\.000 *= *\([0-9.]*\).*/\1/p' <<<"$run_out" | head -n 1)
	p99=$(sed -n 's/.*percentile 99\.000 *= *\([0-9.]*\).*/\1/p' <<<"$run_out" | head -n 1)
	[ -n "$txn" ] && [ "$txn" -gt 0 ] && [ -n "$p50" ] && [ -n "$p99" ] || die "sockperf gave no figures: $(tail -n 3 <<<"$run_out" | tr '\n' ' ')"
	# Requests b -> a and replies a -> b: both directions' counters must cover the messages' bytes.
	if [ "$2" = tcx ]; then ok=$(( d_bby + d_aby >= 2 * $3 * txn ? 1 : 0 )); else ok=$(( t_aby + t_bby >= 2 * $3 * txn ? 1 : 0 )); fi
	ok=$(tcp_ok "$ok")
	record "$1" "pp-$3" "$2" "$ok" "p50_us=$p50" "p99_us=$p99" \
		"cpu_us_txn=$(calc "$cpu_j / $hz * 1e6 / $txn")" "pods_us_txn=$(calc "$cg_us / $txn")"
	say "ping-pong $3 B rep $1 $2: p50 $p50 us, p99 $p99 us, $txn transactions (tcx delivered $((d_bby + d_aby)) B, bridge $((t_aby + t_bby)) B)$(note "$ok")"
}

hz=$(getconf CLK_TCK)
echo "rep,workload,path,metric,value,valid" >"$out/raw.csv"
workloads=()
for b in $sizes; do workloads+=("udp $b"); done
for b in $tcp_sizes; do workloads+=("tcp $b"); done
for b in $pp_sizes; do workloads+=("pp $b"); done
for wl in "${workloads[@]}"; do
	set -- $wl
	for rep in $(seq "$reps"); do
		for path in bridge tcx; do
			set_path "$path"
			"run_$1" "$rep" "$path" "$2"
		done
	done
done
set_path tcx

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cell() { awk -F, -v w="$1" -v p="$2" -v m="$3" '$2 == w && $3 == p && $4 == m && $6 == 1 { print $5 }' "$out/raw.csv" | median; }
row() { # row WORKLOAD LABEL DECIMALS METRIC...: "| label | bridge | tcx | tcx/bridge |" for each metric
	local w=$1 line="| $2" d=$3 m b t; shift 3
	for m in "$@"; do
		b=$(cell "$w" bridge "$m"); t=$(cell "$w" tcx "$m")
		line+=" | $(fmt "$b" "$d") | $(fmt "$t" "$d") | $(awk -v a="$t" -v b="$b" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }')"
	done
	echo "$line |"
}
fmt() { [ "$1" = n/a ] && echo n/a || LC_NUMERIC=C printf "%.${2}f" "$1"; }
{
	echo "# Packet datapath: pod to pod, tcx delivery against the bridge"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo ?), $reps pairs of ${secs} s runs, medians;" \
		"$(nproc) vCPU, kernel $(uname -r), load average at the end $(cut -d' ' -f1-3 /proc/loadavg); socket redirection off"
	if [ -n "$sizes" ]; then
		echo
		echo "| UDP payload | bridge packets/s | tcx packets/s | ratio | CPU ns/packet, machine: bridge | tcx | ratio | CPU ns/packet, pods' processes: bridge | tcx | ratio |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for b in $sizes; do row "udp-$b" "$b B" 0 pps cpu_ns_pkt pods_ns_pkt; done
	fi
	if [ -n "$tcp_sizes" ]; then
		echo
		echo "| TCP write | bridge Gbit/s | tcx Gbit/s | ratio | CPU s/GB, machine: bridge | tcx | ratio | CPU s/GB, pods' processes: bridge | tcx | ratio |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for b in $tcp_sizes; do row "tcp-$b" "$b B" 3 gbps cpu_s_gb pods_s_gb; done
	fi
	if [ -n "$pp_sizes" ]; then
		echo
		echo "| TCP ping-pong | bridge p50 us | tcx p50 us | ratio | bridge p99 us | tcx p99 us | ratio | CPU us/transaction, machine: bridge | tcx | ratio | CPU us/transaction, pods' processes: bridge | tcx | ratio |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for b in $pp_sizes; do row "pp-$b" "$b B" 1 p50_us p99_us cpu_us_txn pods_us_txn; done
	fi
	echo
	echo "Runs failing their check (left out of the medians): $(awk -F, 'NR > 1 && $6 != 1 { print $1, $2, $3 }' "$out/raw.csv" | sort -u | wc -l)"
} >"$out/results.md"
cat "$out/results.md"
