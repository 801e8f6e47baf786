#!/usr/bin/env bash
# Patu packet datapath benchmark: pod-to-pod UDP through tcx delivery (datapath-xdp on) against the bridge
# (datapath-xdp off), on the same two pods of one agent, in paired alternating runs.
#
#   bridge   the plain path: host veth -> bridge -> host veth, as the reference bridge plugin builds it
#            ('patu:disable xdp'; Patu's pods sit on exactly that bridge)
#   tcx      datapath-xdp on: bpf_redirect_peer from the sender's host veth into the receiver ('patu:enable xdp')
#
# Workload: iperf3 UDP, one stream from pod b to pod a, unlimited rate, payload size(s) given (64 B by default).
# Figures: packets/s that reached the receiver (iperf3's own count), and CPU per received packet: busy jiffies
# of the whole machine (user+nice+system+irq+softirq) over the run, and CPU time of the two iperf3 processes
# (a cgroup v2 of their own: what softirq work ran in their context is in it), divided by the packets received.
# Every tcx run is checked against the datapath's own counter (delivered_packets of the sender's veth must
# cover what the receiver got) and every bridge run against the receiver's host veth (tx_packets must cover it);
# a run that fails its check is reported INVALID.
#
# Usage: bench/packet-datapath.sh [--reps N] [--secs S] [--sizes "64 1400"]   (as root; about 2*N*S s a size)
# Results: bench/results/packet-<timestamp>/{results.md,raw.csv}
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/as-root.sh"

bench_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
patu_home=$repo/distribution/target/patu
reps=5
secs=5
sizes="64"

usage() {
	cat >&2 <<EOF
usage: $0 [--reps N] [--secs S] [--sizes "B ..."]
  --reps N     pairs of runs (bridge, tcx, alternating; default $reps); medians are reported
  --secs S     seconds per run (default $secs)
  --sizes "B"  UDP payload sizes in bytes (default "$sizes")
Needs the distribution built in $patu_home and iperf3, jq, bpftool (installed when missing).
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
	-h|--help) usage ;;
	*) echo "bench: unknown option '$1'" >&2; usage ;;
	esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps needs a positive integer, got '$reps'"
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "--secs needs a positive integer, got '$secs'"
for b in $sizes; do [[ $b =~ ^[1-9][0-9]*$ ]] && [ "$b" -le 1472 ] || die "UDP sizes are 1..1472 bytes, got '$b'"; done
[ -x "$patu_home/bin/patu" ] || die "no Patu build in $patu_home (mvn -B -q verify -DskipTests first)"
for pkg in iperf3 jq bpftool; do
	command -v "$pkg" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y --no-install-recommends "$pkg" >/dev/null; }
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
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null
	for p in "${pods[@]}"; do
		env CNI_COMMAND=DEL CNI_CONTAINERID="pk-$id-$p" CNI_NETNS="/run/netns/pk-$id-$p" CNI_IFNAME=eth0 \
			CNI_PATH="$patu_home/cni" PATU_SOCKET="$sock" "$patu_home/cni/patu" <"$tmp/netconf.json" >/dev/null 2>&1
		ip netns del "pk-$id-$p" 2>/dev/null
	done
	if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null; wait "$agent_pid" 2>/dev/null; fi
	rm -rf "$bpffs"
	ip link del "$bridge" 2>/dev/null
	if [ -d "$cg" ]; then
		while read -r pid; do echo "$pid" >"$cg_root/cgroup.procs"; done <"$cg/cgroup.procs"
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
  "io.patu.datapath.sockmap": { "bpffsDir": "$bpffs", "cgroupPath": "" },
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

busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
usage() { awk '$1 == "usage_usec" { print $2 }' "$cg/cpu.stat"; }
stat() { cat "/sys/class/net/$1/statistics/$2"; }
delivered() { # delivered_packets of pod b's host veth, summed over CPUs (0 when the map is absent)
	local ifindex sum=0 hex
	ifindex=$(cat "/sys/class/net/${veth[b]}/ifindex")
	[ -e "$bpffs/xdp/pod_counters" ] || { echo 0; return; }
	# The first 8 bytes of each CPU's value, little-endian: delivered_packets (bpf/include/patu_xdp.h).
	for hex in $(bpftool -j map lookup pinned "$bpffs/xdp/pod_counters" key $(printf '0x%02x 0x%02x 0x%02x 0x%02x' \
			$((ifindex & 255)) $((ifindex >> 8 & 255)) $((ifindex >> 16 & 255)) $((ifindex >> 24))) 2>/dev/null \
			| jq -r '.values[] | .value[0:8] | reverse | map(ltrimstr("0x")) | join("")'); do
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

hz=$(getconf CLK_TCK)
echo "rep,size,path,packets_per_s,cpu_ns_per_packet,pods_cpu_ns_per_packet,valid" >"$out/raw.csv"
for size in $sizes; do
	for rep in $(seq "$reps"); do
		for path in bridge tcx; do
			set_path "$path"
			ip netns exec "pk-$id-b" iperf3 -c "${addr[a]}" -u -b 0 -l "$size" -t 1 >/dev/null 2>&1 || true  # neighbours, warm-up
			d0=$(delivered); tx0=$(stat "${veth[a]}" tx_packets); c0=$(busy); u0=$(usage)
			json=$(in_cg ip netns exec "pk-$id-b" iperf3 -c "${addr[a]}" -u -b 0 -l "$size" -t "$secs" -J)
			u1=$(usage); c1=$(busy); tx1=$(stat "${veth[a]}" tx_packets); d1=$(delivered)
			received=$(jq '.end.sum.packets - .end.sum.lost_packets' <<<"$json")
			seconds=$(jq '.end.sum.seconds' <<<"$json")
			pps=$(awk -v r="$received" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')
			nspp=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v r="$received" 'BEGIN { printf "%.1f", c * 1e9 / hz / r }')
			podns=$(awk -v u=$((u1 - u0)) -v r="$received" 'BEGIN { printf "%.1f", u * 1e3 / r }')
			if [ "$path" = tcx ]; then valid=$(( d1 - d0 >= received ? 1 : 0 )); else valid=$(( tx1 - tx0 >= received ? 1 : 0 )); fi
			echo "$rep,$size,$path,$pps,$nspp,$podns,$valid" >>"$out/raw.csv"
			say "size $size rep $rep $path: $pps packets/s, CPU a packet $nspp ns machine, $podns ns pods (tcx delivered $((d1 - d0)), bridge to a $((tx1 - tx0)), received $received)$([ "$valid" = 1 ] || echo ' INVALID')"
		done
	done
done
set_path tcx

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
	echo "# Packet datapath: pod-to-pod UDP, tcx delivery against the bridge"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo ?), $reps pairs of ${secs} s runs, medians; $(nproc) vCPU, kernel $(uname -r)"
	echo
	echo "| UDP payload | bridge packets/s | tcx packets/s | ratio | CPU ns/packet, machine: bridge | tcx | ratio | CPU ns/packet, pods' processes: bridge | tcx | ratio |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for size in $sizes; do
		row=()
		line="| $size B"
		for col in 4 5 6; do
			row=()
			for path in bridge tcx; do
				row+=("$(awk -F, -v s="$size" -v p="$path" -v c="$col" '$2 == s && $3 == p && $7 == 1 { print $c }' "$out/raw.csv" | median)")
			done
			line+=" | ${row[0]} | ${row[1]} | $(awk -v a="${row[1]}" -v b="${row[0]}" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }')"
		done
		echo "$line |"
	done
	invalid=$(awk -F, 'NR > 1 && $7 != 1' "$out/raw.csv" | wc -l)
	echo
	echo "Runs failing their check (left out of the medians): $invalid"
} >"$out/results.md"
cat "$out/results.md"
