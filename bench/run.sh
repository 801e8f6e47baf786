#!/usr/bin/env bash
# Patu benchmark: one command, four setups, same workloads.
#
#   reference   two netns pods on a bridge built by the reference CNI plugins
#               (/usr/lib/cni/bridge + host-local, MTU 1500)
#   limit       client and server in one netns over loopback TCP (127.0.0.1,
#               MTU 65536): what two processes of one host get, the figure to
#               reach where socket redirection does not already go beyond it
#   patu-plain  two pods created by Patu's CNI plugin, agent running, its
#               datapath-sockmap and datapath-xdp bundles stopped: no socket
#               redirection, no tcx delivery (the bridge; bench/packet-datapath.sh
#               measures TCP through tcx delivery)
#   patu-accel  two pods created by Patu's CNI plugin, socket redirection on
# With --policy, two more (and the policy bundle stopped in the two above, so they
# are "Patu without policy"):
#   patu-policy-plain   as patu-plain, with 50 NetworkPolicies (500 rules) that
#                       isolate both pods and allow the benchmark traffic
#   patu-policy-accel   as patu-accel, with the same policies
# and the time a 1,000-rule change takes from its file to the kernel.
#
# Both Patu agents run at the shipped node-local MTU (65535, docs/mtu.md)
# unless --patu-mtu says otherwise (--patu-mtu 1500: the reference's layout).
#
# Workloads (client in pod b, server in pod a, both processes inside a cgroup v2
# of the setup, which is the cgroup Patu's sockops program is attached to):
#   iperf3, one TCP stream, write sizes 64 B, 1, 4, 16, 64 and 128 KiB: throughput
#   sockperf TCP ping-pong, 64 B and 1 KiB messages: latency p50 / p99 (on a
#     2-vCPU VM, client and server on one CPU or on two differ more than any
#     setup does: --pp-cpus pins them, so that setups compare on one placement)
#   CPU cost of both: busy CPU of the whole machine (/proc/stat) and CPU time
#   of the pods' own processes (cgroup cpu.stat), per GB or per transaction.
#
# Every run is checked: reference and patu-plain must carry the payload over
# the veths (and patu-plain must have no sockops program on its cgroup), the
# limit over its namespace's loopback device;
# patu-accel must carry at least 90 % of it through sk_msg redirection
# (bytes_redirected).  A figure from a run that failed its check is reported
# as INVALID, never as a number.
#
# Usage: bench/run.sh [--reps N] [--full] [--secs S] [--patu-mtu N] [--help]   (as root)
# Results: bench/results/<timestamp>/{results.md,results.csv,results.png,raw.csv,verify.csv}
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/as-root.sh"

bench_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
patu_home=$repo/distribution/target/patu
ref_cni_dir=/usr/lib/cni
cg_root=/sys/fs/cgroup/unified
bpffs_root=/sys/fs/bpf

reps=3
full=0
secs=""
cni_runs=""
write_sizes="64 1024 4096 16384 65536 131072"
pp_msg_sizes="64 1024"
datapath_config=""
patu_mtu=""
policy=0
pp_cpus=""

usage() {
	cat >&2 <<EOF
usage: $0 [--reps N] [--full] [--secs S] [--cni-runs N] [--sizes "B ..."] [--pingpong "B ..."] [--datapath-config JSON] [--patu-mtu N] [--policy] [--pp-cpus "C S"]
  --reps N   repetitions of every workload on every setup (default $reps); medians are reported
  --full     longer runs (10 s per iperf3 and sockperf run instead of 4 s)
  --secs S   seconds per measured run, overriding the mode (for a smoke test)
  --cni-runs N  ADD+DEL pairs timed per setup (default 100; 300 with --full; 0 skips them)
  --sizes "B ..."     iperf3 write sizes in bytes (default "$write_sizes")
  --pingpong "B ..."  sockperf ping-pong message sizes in bytes (default "$pp_msg_sizes"; "" skips them)
  --datapath-config JSON  extra io.patu.datapath.sockmap properties for both Patu agents, to measure other
                      thresholds, e.g. '{"smallWriteBytes": 2048}' (see conf/patu.json; default: none)
  --patu-mtu N  io.patu.lifecycle mtu of both Patu agents (default: the agent's own, 65535); 1500 compares
                      Patu on the reference's layout
  --pp-cpus "C S"  pin the sockperf client to CPU C and its server to CPU S (taskset) in every setup; unpinned,
             the scheduler places the two ends on one CPU or on two from run to run, and on this kind of VM
             the two placements differ by several microseconds a half round trip (default: unpinned)
  --policy   also "Patu with policy" (plain and accelerated): 50 policies, 500 rules, the benchmark pods allowed;
             the Patu setups without it run with the policy bundle stopped
Runs as root. Needs the Patu distribution built in $patu_home
(cd $repo && JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -B -q install -DskipTests).
Installs missing Debian packages: iperf3 sockperf jq bpftool gnuplot-nox containernetworking-plugins iproute2.
EOF
	exit 2
}
die() { echo "bench: error: $*" >&2; exit 1; }
say() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--reps) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	--full) full=1; shift ;;
	--secs) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
	--cni-runs) [ $# -ge 2 ] || usage; cni_runs=$2; shift 2 ;;
	--sizes) [ $# -ge 2 ] || usage; write_sizes=$2; shift 2 ;;
	--pingpong) [ $# -ge 2 ] || usage; pp_msg_sizes=$2; shift 2 ;;
	--datapath-config) [ $# -ge 2 ] || usage; datapath_config=$2; shift 2 ;;
	--patu-mtu) [ $# -ge 2 ] || usage; patu_mtu=$2; shift 2 ;;
	--policy) policy=1; shift ;;
	--pp-cpus) [ $# -ge 2 ] || usage; pp_cpus=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "bench: unknown option '$1'" >&2; usage ;;
	esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps needs a positive integer, got '$reps'"
[ -z "$patu_mtu" ] || { [[ $patu_mtu =~ ^[1-9][0-9]*$ ]] && [ "$patu_mtu" -ge 1280 ] && [ "$patu_mtu" -le 65535 ]; } \
	|| die "--patu-mtu needs an MTU from 1280 to 65535, got '$patu_mtu'"
if [ "$full" = 1 ]; then iperf_secs=10; pp_secs=10; mode=full; else iperf_secs=4; pp_secs=4; mode=quick; fi
[ -n "$cni_runs" ] || { [ "$full" = 1 ] && cni_runs=300 || cni_runs=100; }
[[ $cni_runs =~ ^[0-9]+$ ]] || die "--cni-runs needs a number, got '$cni_runs'"
for b in $write_sizes $pp_msg_sizes; do
	[[ $b =~ ^[1-9][0-9]*$ ]] && [ "$b" -le 1048576 ] || die "sizes are byte counts from 1 to 1048576, got '$b'"
done
[ -n "$write_sizes" ] || die "--sizes needs at least one write size"
pp_client_pin=() pp_server_pin=()
if [ -n "$pp_cpus" ]; then
	read -r pp_c pp_s extra <<<"$pp_cpus"
	for c in "$pp_c" "$pp_s"; do
		[[ $c =~ ^[0-9]+$ ]] && [ "$c" -lt "$(nproc)" ] || die "--pp-cpus needs two CPU numbers below $(nproc), got '$pp_cpus'"
	done
	[ -z "$extra" ] || die "--pp-cpus needs two CPU numbers, got '$pp_cpus'"
	pp_client_pin=(taskset -c "$pp_c") pp_server_pin=(taskset -c "$pp_s")
fi
if [ -n "$secs" ]; then
	[[ $secs =~ ^[1-9][0-9]*$ ]] || die "--secs needs a positive integer, got '$secs'"
	iperf_secs=$secs pp_secs=$secs mode="$mode, $secs s runs"
fi

# ---------------------------------------------------------------- preconditions
if [ ! -x "$patu_home/bin/patu" ] || [ ! -x "$patu_home/cni/patu" ]; then
	die "no Patu build in $patu_home. Build it first:
    cd $repo && export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 && mvn -B -q install -DskipTests"
fi

# Debian packages: install only what is missing.
have_sockperf=1
ensure_packages() {
	local pkg missing=() updated=0
	for pkg in iperf3 sockperf jq bpftool gnuplot-nox containernetworking-plugins iproute2; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them"
	if ! apt-cache show sockperf >/dev/null 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		updated=1
	fi
	if [[ " ${missing[*]} " == *" sockperf "* ]] && ! apt-cache show sockperf >/dev/null 2>&1; then
		say "sockperf is not packaged for this distribution: the ping-pong latency workloads are skipped (no substitute is reported as if it were sockperf)"
		have_sockperf=0
		missing=("${missing[@]/sockperf/}")
	fi
	say "installing missing Debian packages: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${missing[*]} >/dev/null; then
		[ "$updated" = 1 ] || { apt-get update -q >/dev/null 2>&1 || true; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${missing[*]} >/dev/null \
			|| die "apt-get install ${missing[*]} failed"
	fi
}
ensure_packages
for tool in ip iperf3 jq bpftool gnuplot awk sort; do
	command -v "$tool" >/dev/null || die "'$tool' is missing after package installation"
done
[ -z "$datapath_config" ] || jq -e 'type == "object"' <<<"$datapath_config" >/dev/null 2>&1 \
	|| die "--datapath-config needs a JSON object, got '$datapath_config'"
[ "$have_sockperf" = 0 ] || command -v sockperf >/dev/null || die "'sockperf' is missing after package installation"
[ -x "$ref_cni_dir/bridge" ] && [ -x "$ref_cni_dir/host-local" ] \
	|| die "reference CNI plugins missing in $ref_cni_dir (apt-get install containernetworking-plugins)"

# CPU-cost method.  perf counters are the better measure where the machine has
# a PMU; this one is only used to say which method applies.
if perf stat -x, -e instructions true 2>&1 >/dev/null | grep -q '^[0-9]'; then
	perf_note="perf stat counts instructions on this machine, but this script measures CPU time (/proc/stat, cgroup cpu.stat) so that every machine gets the same method"
else
	perf_note="perf stat -e instructions is not supported here (no PMU in this VM): CPU cost is CPU time from /proc/stat and cgroup cpu.stat"
fi

# cgroup v2 and bpffs: mounted if absent (left mounted afterwards: others may use them by then).
if [ "$(stat -fc %T "$cg_root" 2>/dev/null)" != cgroup2fs ]; then
	mkdir -p "$cg_root" && mount -t cgroup2 none "$cg_root" || die "cannot mount cgroup v2 at $cg_root"
fi
if [ "$(stat -fc %T "$bpffs_root" 2>/dev/null)" != bpf_fs ]; then
	mount -t bpf bpf "$bpffs_root" || die "cannot mount bpffs at $bpffs_root"
fi

# ---------------------------------------------------------------- names, clean-up
id=$$
tag=pb$id                       # prefix of every object this run creates
tmp=$(mktemp -d "/tmp/patu-bench-$id-XXXX")
out=$bench_dir/results/$(date -u +%Y%m%dT%H%M%SZ)
[ -e "$out" ] && out=$out-$id
raw=$tmp/raw.csv verify=$tmp/verify.csv

setups=(reference limit patu-plain patu-accel)
[ "$policy" = 0 ] || setups+=(patu-policy-plain patu-policy-accel)
# Short names (netns) and bridge letters, distinct per setup.
declare -A short_of=([reference]=ref [limit]=lim [patu-plain]=pla [patu-accel]=acc [patu-policy-plain]=ppl [patu-policy-accel]=pac)
declare -A letter_of=([reference]=r [limit]=l [patu-plain]=p [patu-accel]=a [patu-policy-plain]=q [patu-policy-accel]=c)
declare -A cg ns_a ns_b ip_a ip_b veth_a veth_b plugin plugin_path netconf sock bpffs bridge subnet conf
declare -A agent_pid agent_fd server_pids
pods=()          # "setup pod" for every pod whose ADD was attempted
latency_pod=""   # "setup netns container" of the ADD/DEL timing pod in flight
agents=()        # setups with an agent started
cleaned=0

cni_call() { # cni_call SETUP COMMAND POD
	local s=$1 cmd=$2 p=$3 nsname
	[ "$p" = a ] && nsname=${ns_a[$s]} || nsname=${ns_b[$s]}
	# Patu's pods say who they are (namespace bench, pod a or b), as kubelet would: the policies select them.
	local args=""
	[[ $s == patu-* ]] && args="K8S_POD_NAMESPACE=bench;K8S_POD_NAME=$p"
	env CNI_COMMAND="$cmd" CNI_CONTAINERID="$tag-$s-$p" CNI_NETNS="/run/netns/$nsname" CNI_IFNAME=eth0 \
		CNI_PATH="${plugin_path[$s]}" PATU_SOCKET="${sock[$s]:-/nonexistent}" CNI_ARGS="$args" \
		"${plugin[$s]}" <"${netconf[$s]}"
}

cleanup() {
	[ "$cleaned" = 1 ] && return 0
	cleaned=1
	set +e
	trap - INT TERM
	say "cleaning up"
	local s p pid n
	for s in "${!server_pids[@]}"; do
		for pid in ${server_pids[$s]}; do kill "$pid" 2>/dev/null; done
	done
	for s in "${setups[@]}"; do   # anything else left in our cgroups (a client cut short)
		[ -n "${cg[$s]:-}" ] && [ -f "${cg[$s]}/cgroup.procs" ] || continue
		for pid in $(cat "${cg[$s]}/cgroup.procs"); do kill "$pid" 2>/dev/null; done
	done
	for s in "${!server_pids[@]}"; do for pid in ${server_pids[$s]}; do wait "$pid" 2>/dev/null; done; done
	for n in "${pods[@]}"; do
		set -- $n
		cni_call "$1" DEL "$2" >/dev/null 2>&1 || say "warning: CNI DEL of pod $2 of $1 failed"
	done
	if [ -n "$latency_pod" ]; then
		set -- $latency_pod
		CNI_COMMAND=DEL CNI_CONTAINERID="$3" CNI_NETNS="/run/netns/$2" CNI_IFNAME=eth0 CNI_PATH="${plugin_path[$1]}" \
			PATU_SOCKET="${sock[$1]:-/nonexistent}" "${plugin[$1]}" <"${netconf[$1]}" >/dev/null 2>&1
		ip netns del "$2" 2>/dev/null
	fi
	for s in "${setups[@]}"; do
		for n in "${ns_a[$s]:-}" "${ns_b[$s]:-}"; do
			[ -n "$n" ] && [ -e "/run/netns/$n" ] && ip netns del "$n"
		done
	done
	for s in "${agents[@]}"; do
		pid=${agent_pid[$s]}
		kill "$pid" 2>/dev/null
		for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fd=${agent_fd[$s]:-}; [ -n "$fd" ] && exec {fd}>&-
		"$patu_home/bin/patu" purge --config "${conf[$s]}" >/dev/null 2>&1 \
			|| say "warning: patu purge for $s failed"
	done
	for s in "${setups[@]}"; do
		[ -n "${bpffs[$s]:-}" ] && [ -e "${bpffs[$s]}" ] && rm -rf -- "${bpffs[$s]}"
		[ -n "${bridge[$s]:-}" ] && ip link show "${bridge[$s]}" >/dev/null 2>&1 && ip link del "${bridge[$s]}"
	done
	for s in "${setups[@]}"; do
		[ -n "${cg[$s]:-}" ] && [ -d "${cg[$s]}" ] && { rmdir "${cg[$s]}" || say "warning: could not remove cgroup ${cg[$s]}"; }
	done
	rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- helpers
# Runs "CMD..." inside pod NS with the process in cgroup CG from its first instruction on.
in_pod() { # in_pod CG NS CMD...
	sh -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$@"' "$@"
}
cpu_busy_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }  # user nice system irq softirq
cg_usage_usec() { awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"; }
hz=$(getconf CLK_TCK)
veth_bytes() { # rx+tx of both pods' host veths of SETUP; for the limit, of its namespace's loopback device
	local s=$1 v sum=0
	if [ "$s" = limit ]; then
		ip netns exec "${ns_a[$s]}" sh -c 'echo $(( $(cat /sys/class/net/lo/statistics/rx_bytes) + $(cat /sys/class/net/lo/statistics/tx_bytes) ))'
		return
	fi
	for v in "${veth_a[$s]}" "${veth_b[$s]}"; do
		sum=$((sum + $(cat "/sys/class/net/$v/statistics/rx_bytes") + $(cat "/sys/class/net/$v/statistics/tx_bytes")))
	done
	echo "$sum"
}
sockmap_counter() { # sockmap_counter SETUP FIELD: sum over CPUs of FIELD of SETUP's sockmap_stats (0 when absent)
	local f=${bpffs[$1]:-}/sockmap/sockmap_stats
	[ -n "${bpffs[$1]:-}" ] && [ -e "$f" ] || { echo 0; return; }
	bpftool -j map dump pinned "$f" | jq --arg f "$2" '[.. | objects | .[$f]? // empty] | add // 0'
}
redirected_bytes() { sockmap_counter "$1" bytes_redirected; }
sockops_on() { # prints the number of sock_ops programs attached to CG
	bpftool -j cgroup show "$1" 2>/dev/null | jq -s '[.[][]? | select(.attach_type == "cgroup_sock_ops" or .attach_type == "sock_ops")] | length' 2>/dev/null || echo 0
}
wait_listen() { # wait_listen NS PORT
	local i
	for i in $(seq 100); do
		ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }

# ---------------------------------------------------------------- policy (--policy)
bundle_id() { # bundle_id SETUP ARTIFACT: the bundle id of io.patu.ARTIFACT in the agent's last 'lb -s' output
	grep -oE "[0-9]+\|[A-Za-z]+ *\|[ 0-9]+\|io\.patu\.$2 " "$tmp/$1.agent.log" | tail -n 1 | cut -d'|' -f1 | tr -d ' ' || true
}
policy_entries() { # policy_entries SETUP: pod addresses some policy isolates, both slots (0 when no policy maps)
	local f=${bpffs[$1]}/policy/policy_pods
	[ -e "$f" ] || { echo 0; return; }
	bpftool -j map dump pinned "$f" 2>/dev/null | jq 'length' 2>/dev/null || echo 0
}
policy_generation() { # policy_generation SETUP: the generation in force (-1 when absent)
	local f=${bpffs[$1]}/policy/policy_generation
	[ -e "$f" ] || { echo -1; return; }
	bpftool -j map lookup pinned "$f" key 0 0 0 0 2>/dev/null \
		| jq '.formatted.value // .value | if type == "array" then ([.[] | if type == "string" then ltrimstr("0x") else . end] | reverse | map(if type == "string" then . else tostring end) | join("")) else . end' 2>/dev/null \
		|| echo -1
}
# Patu without policy: the policy bundle (when the build has it) is stopped, and nothing of it is left in the kernel.
# Patu with policy: the bundle is active and has written a generation.
setup_policy_bundle() { # setup_policy_bundle SETUP
	local s=$1 pid i
	pid=$(bundle_id "$s" policy)
	case $s in
	patu-policy-*)
		[ -n "$pid" ] || die "$s: the build has no io.patu.policy bundle (profile full)"
		for i in $(seq 100); do [ "$(policy_generation "$s")" != -1 ] && [ "$(policy_generation "$s")" != 0 ] && break; sleep 0.1; done
		say "$s: bundle $pid (policy) active, generation $(policy_generation "$s")" ;;
	*)
		[ -n "$pid" ] || return 0
		echo "stop $pid" >&"${agent_fd[$s]}"
		for i in $(seq 150); do [ ! -e "${bpffs[$s]}/policy" ] && break; sleep 0.1; done
		[ ! -e "${bpffs[$s]}/policy" ] || die "$s: pins still under ${bpffs[$s]}/policy after 'stop $pid'"
		say "$s: bundle $pid (policy) stopped: Patu without policy" ;;
	esac
}
# 50 NetworkPolicies with 10 rules each: 25 isolate both benchmark pods for ingress, 25 for egress; each allows
# the benchmark pods among themselves (one rule) and nine ipBlocks with a port each that no benchmark
# traffic uses. The pods' metadata comes as Pod objects (namespace bench, names a and b, CNI_ARGS above).
write_policies() { # write_policies DIR
	local dir=$1 i j dirn peer
	cat >"$dir/pods.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: bench}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: bench, labels: {bench: "yes", role: server}}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: bench, labels: {bench: "yes", role: client}}
EOF
	for i in $(seq 0 49); do
		if [ "$i" -lt 25 ]; then dirn=Ingress peer=from; else dirn=Egress peer=to; fi
		{
			echo "apiVersion: networking.k8s.io/v1"
			echo "kind: NetworkPolicy"
			echo "metadata: {name: bench-$i, namespace: bench}"
			echo "spec:"
			echo "  podSelector: {matchLabels: {bench: \"yes\"}}"
			echo "  policyTypes: [$dirn]"
			echo "  ${dirn,,}:"
			echo "  - $peer: [{podSelector: {matchLabels: {bench: \"yes\"}}}]"
			for j in $(seq 1 9); do
				echo "  - $peer: [{ipBlock: {cidr: 10.$((100 + i)).$j.0/24}}]"
				echo "    ports: [{port: $((1000 + j)), protocol: TCP}]"
			done
		} >"$dir/bench-$i.yaml"
	done
}
# A 1,000-rule change: four more policies for the benchmark pods, with 1,000 ipBlock rules (they allow nothing
# the benchmark uses, and denies nothing: rules only add). Timed from its rename into the policy directory
# to the new generation in the kernel, five times adding it and five times removing it.
time_policy_change() { # time_policy_change SETUP -> sets change_ms (median, ms) and change_samples
	local s=$1 dir=$tmp/$1-policy i k g0 t0 t1 file
	local -a samples=()
	file=$tmp/$s-change.yaml
	{   # four policies of 250 rules in one file (the engine takes at most 256 rules a policy)
		for p in 0 1 2 3; do
			[ "$p" = 0 ] || echo "---"
			echo "apiVersion: networking.k8s.io/v1"
			echo "kind: NetworkPolicy"
			echo "metadata: {name: bench-change-$p, namespace: bench}"
			echo "spec:"
			echo "  podSelector: {matchLabels: {bench: \"yes\"}}"
			echo "  policyTypes: [Ingress]"
			echo "  ingress:"
			for k in $(seq 0 249); do
				echo "  - from: [{ipBlock: {cidr: 10.99.$p.$k/32}}]"
				echo "    ports: [{port: $((2000 + k % 100)), protocol: TCP}]"
			done
		done
	} >"$file"
	for i in $(seq 10); do
		g0=$(policy_generation "$s")
		t0=$EPOCHREALTIME
		if [ $((i % 2)) = 1 ]; then cp "$file" "$dir/.change.tmp" && mv "$dir/.change.tmp" "$dir/zz-change.yaml"; else rm "$dir/zz-change.yaml"; fi
		for k in $(seq 2000); do [ "$(policy_generation "$s")" != "$g0" ] && break; done
		t1=$EPOCHREALTIME
		[ "$(policy_generation "$s")" != "$g0" ] || die "$s: a 1,000-rule change never reached the kernel"
		samples+=("$(calc "(${t1/./} - ${t0/./}) / 1000")")
	done
	change_ms=$(printf '%s\n' "${samples[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	change_samples="${samples[*]}"
}

# A /24 that overlaps no IPv4 route (any table) and no address of this host,
# nor one picked before; sets $picked.
ip2int() { local IFS=.; set -- $1; echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )); }
picked="" used_subnets=""
pick_subnet() {
	local tries net lo hi pfx base len plo phi taken
	local -a prefixes
	mapfile -t prefixes < <({ ip -4 route show table all | awk '$1 != "default" { print ($1 ~ /^(local|broadcast|unicast|blackhole|unreachable|prohibit|throw|anycast|multicast)$/) ? $2 : $1 }'; ip -4 -o addr show | awk '{ print $4 }'; } | sort -u)
	for tries in $(seq 200); do
		net=10.$((200 + RANDOM % 50)).$((RANDOM % 256)).0
		lo=$(ip2int "$net") hi=$(( $(ip2int "$net") + 255 ))
		taken=0
		for pfx in "${prefixes[@]}" $used_subnets; do
			base=${pfx%/*}; len=${pfx#*/}; [ "$len" = "$pfx" ] && len=32
			[[ $base =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || continue
			plo=$(( $(ip2int "$base") & (len == 0 ? 0 : (0xffffffff << (32 - len)) & 0xffffffff) ))
			phi=$(( plo + (1 << (32 - len)) - 1 ))
			if [ "$plo" -le "$hi" ] && [ "$phi" -ge "$lo" ]; then taken=1; break; fi
		done
		[ "$taken" = 0 ] || continue
		used_subnets+=" $net/24"
		picked=$net/24
		return 0
	done
	die "found no free 10.200-249.x.0/24 subnet"
}

# ---------------------------------------------------------------- setups
mkdir -p "$tmp/ipam"
for s in "${setups[@]}"; do
	short=${short_of[$s]}
	cg[$s]=$cg_root/patu-bench-$id-$s
	mkdir "${cg[$s]}"
	ns_a[$s]=$tag-$short-a
	ns_b[$s]=$tag-$short-b
	bridge[$s]=${tag}${letter_of[$s]}                       # pb<pid>r / l / p / a / q / c, <= 15 chars
	pick_subnet
	subnet[$s]=$picked
done

# reference: a conflist as a runtime would hold it; the plugin gets its entry with
# name and cniVersion filled in, as libcni does.
cat >"$tmp/reference.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$tag-ref",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${bridge[reference]}",
      "isGateway": true,
      "ipMasq": false,
      "mtu": 1500,
      "ipam": { "type": "host-local", "subnet": "${subnet[reference]}", "dataDir": "$tmp/ipam" }
    }
  ]
}
EOF
jq '.plugins[0] + {name: .name, cniVersion: .cniVersion}' "$tmp/reference.conflist" >"$tmp/reference.json"
plugin[reference]=$ref_cni_dir/bridge
plugin_path[reference]=$ref_cni_dir
netconf[reference]=$tmp/reference.json

# Patu: one agent per Patu setup, each with its own bridge, subnet, socket, state,
# bpffs directory and cgroup.  Its Gogo shell reads a fifo this script holds open.
start_agent() { # start_agent SETUP
	local s=$1 i bid fd
	bpffs[$s]=$bpffs_root/patu-bench-$id-$s
	sock[$s]=$tmp/$s.sock
	conf[$s]=$tmp/$s.conf.json
	cat >"${conf[$s]}" <<EOF
{
  ":configurator:resource-version": 1,
  "io.patu.lifecycle": { "bridgeName": "${bridge[$s]}", "socketPath": "${sock[$s]}", "stateDir": "$tmp/$s-state" },
  "io.patu.ipam": { "subnet": "${subnet[$s]}", "gateway": "", "stateDir": "$tmp/$s-state" },
  "io.patu.datapath.sockmap": { "bpffsDir": "${bpffs[$s]}", "cgroupPath": "${cg[$s]}" },
  "io.patu.egress": { "table": "patu_bench_${id}_${s//-/_}" },
  "io.patu.datapath.xdp": { "bpffsDir": "${bpffs[$s]}", "nodeCgroup": "${cg[$s]}" },
  "io.patu.policy": { "bpffsDir": "${bpffs[$s]}", "policyDir": "$tmp/$s-policy" },
  "io.patu.metrics": { "port": 0 }
}
EOF
	if [ -n "$patu_mtu" ]; then
		jq --argjson mtu "$patu_mtu" '."io.patu.lifecycle".mtu = $mtu' "${conf[$s]}" >"${conf[$s]}.new"
		mv "${conf[$s]}.new" "${conf[$s]}"
	fi
	mkdir -p "$tmp/$s-policy"
	case $s in patu-policy-*) write_policies "$tmp/$s-policy" ;; esac
	if [ -n "$datapath_config" ]; then
		jq --argjson extra "$datapath_config" '."io.patu.datapath.sockmap" += $extra' "${conf[$s]}" >"${conf[$s]}.new"
		mv "${conf[$s]}.new" "${conf[$s]}"
	fi
	mkfifo "$tmp/$s.console"
	"$patu_home/bin/patu" run --config "${conf[$s]}" <"$tmp/$s.console" >"$tmp/$s.agent.log" 2>&1 &
	agent_pid[$s]=$!
	agents+=("$s")
	exec {fd}>"$tmp/$s.console"
	agent_fd[$s]=$fd
	for i in $(seq 600); do
		echo '{"cniVersion":"1.0.0"}' | PATU_SOCKET=${sock[$s]} CNI_COMMAND=VERSION "$patu_home/cni/patu" >/dev/null 2>&1 && break
		kill -0 "${agent_pid[$s]}" 2>/dev/null || { tail -n 30 "$tmp/$s.agent.log" >&2; die "the $s agent exited during start-up"; }
		[ "$i" -lt 600 ] || { tail -n 30 "$tmp/$s.agent.log" >&2; die "the $s agent did not answer within 60 s"; }
		sleep 0.1
	done
	# The datapath must be up before any pod exists, in both setups (patu-plain then stops it).
	for i in $(seq 100); do [ -e "${bpffs[$s]}/sockmap/sockmap_stats" ] && break; sleep 0.1; done
	[ -e "${bpffs[$s]}/sockmap/sockmap_stats" ] || { tail -n 30 "$tmp/$s.agent.log" >&2; die "the $s agent did not pin its sockmap datapath under ${bpffs[$s]}"; }
	[ "$(sockops_on "${cg[$s]}")" -ge 1 ] || die "the $s agent pinned its maps but no sockops program is attached to ${cg[$s]}"
	echo "lb -s" >&"${agent_fd[$s]}"
	for i in $(seq 100); do
		bid=$(bundle_id "$s" datapath-sockmap)
		[ -n "$bid" ] && break
		sleep 0.1
	done
	[ -n "$bid" ] || die "could not find the io.patu.datapath-sockmap bundle in the $s agent's 'lb -s' output (log $tmp/$s.agent.log)"
	setup_policy_bundle "$s"
	if [ "$s" = patu-plain ] || [ "$s" = patu-policy-plain ]; then
		echo "stop $bid" >&"${agent_fd[$s]}"
		for i in $(seq 150); do
			[ -z "$(ls -A "${bpffs[$s]}/sockmap" 2>/dev/null)" ] && [ "$(sockops_on "${cg[$s]}")" = 0 ] && break
			sleep 0.1
		done
		[ -z "$(ls -A "${bpffs[$s]}/sockmap" 2>/dev/null)" ] \
			|| die "$s: pins still under ${bpffs[$s]}/sockmap after 'stop $bid': acceleration is not off"
		[ "$(sockops_on "${cg[$s]}")" = 0 ] || die "$s: sockops still attached to ${cg[$s]} after 'stop $bid'"
		say "$s: bundle $bid (datapath-sockmap) stopped; no pins under ${bpffs[$s]}/sockmap, no sockops on its cgroup"
		# The packet datapath (full profile) goes too: patu-plain is the plain path.
		bid=$(grep -oE '[0-9]+\|[A-Za-z]+ *\|[ 0-9]+\|io\.patu\.datapath-xdp ' "$tmp/$s.agent.log" | head -n 1 | cut -d'|' -f1 || true)
		if [ -n "$bid" ]; then
			echo "stop $bid" >&"${agent_fd[$s]}"
			for i in $(seq 150); do [ ! -e "${bpffs[$s]}/xdp" ] && break; sleep 0.1; done
			[ ! -e "${bpffs[$s]}/xdp" ] || die "$s: pins still under ${bpffs[$s]}/xdp after 'stop $bid'"
			say "$s: bundle $bid (datapath-xdp) stopped"
		fi
	else
		say "$s: bundle $bid (datapath-sockmap) active; sockops attached to ${cg[$s]}"
	fi
	plugin[$s]=$patu_home/cni/patu
	plugin_path[$s]=$patu_home/cni
	netconf[$s]=$tmp/$s.netconf.json
	echo '{"cniVersion":"1.0.0","name":"'"$tag-$s"'","type":"patu"}' >"${netconf[$s]}"
}
say "starting $((${#setups[@]} - 1)) Patu agents (build: $patu_home)"
for s in "${setups[@]}"; do [ "$s" = reference ] || start_agent "$s"; done

# Pods: fresh netns, ADD through the setup's CNI plugin, address and host veth from the pod itself.
add_pod() { # add_pod SETUP a|b
	local s=$1 p=$2 nsname result addr iflink veth
	[ "$p" = a ] && nsname=${ns_a[$s]} || nsname=${ns_b[$s]}
	if [ "$s" = limit ]; then # one namespace for both ends: loopback TCP
		[ "$p" = a ] || { ns_b[$s]=${ns_a[$s]}; ip_b[$s]=127.0.0.1; veth_b[$s]=lo; return; }
		ip netns add "$nsname"
		ip netns exec "$nsname" ip link set lo up
		ip_a[$s]=127.0.0.1; veth_a[$s]=lo
		return
	fi
	ip netns add "$nsname"
	pods+=("$s $p")
	result=$(cni_call "$s" ADD "$p") || die "$s: CNI ADD of pod $p failed: $result"
	addr=$(jq -r '.ips[0].address // empty | split("/")[0]' <<<"$result")
	[ -n "$addr" ] || die "$s: CNI ADD of pod $p returned no address: $result"
	iflink=$(ip netns exec "$nsname" cat /sys/class/net/eth0/iflink)
	veth=$(ip -j link show | jq -r --argjson i "$iflink" '.[] | select(.ifindex == $i) | .ifname')
	[ -n "$veth" ] || die "$s: no host interface with ifindex $iflink (peer of pod $p's eth0)"
	if [ "$p" = a ]; then ip_a[$s]=$addr; veth_a[$s]=$veth; else ip_b[$s]=$addr; veth_b[$s]=$veth; fi
}
for s in "${setups[@]}"; do
	add_pod "$s" a
	add_pod "$s" b
	if [ "$s" = limit ]; then
		say "$s: client and server in netns ${ns_a[$s]} over loopback, MTU $(ip netns exec "${ns_a[$s]}" cat /sys/class/net/lo/mtu)"
		continue
	fi
	say "$s: pod a ${ip_a[$s]} (veth ${veth_a[$s]}, MTU $(cat "/sys/class/net/${veth_a[$s]}/mtu")), pod b ${ip_b[$s]} (veth ${veth_b[$s]}), bridge ${bridge[$s]} (MTU $(cat "/sys/class/net/${bridge[$s]}/mtu")), subnet ${subnet[$s]}"
done

# Servers in pod a, inside the setup's cgroup, for the whole run.
for s in "${setups[@]}"; do
	in_pod "${cg[$s]}" "${ns_a[$s]}" iperf3 -s -B "${ip_a[$s]}" >"$tmp/$s.iperf3-server.log" 2>&1 &
	server_pids[$s]=$!
	if [ "$have_sockperf" = 1 ]; then
		in_pod "${cg[$s]}" "${ns_a[$s]}" "${pp_server_pin[@]}" sockperf sr --tcp -i "${ip_a[$s]}" -p 11111 >"$tmp/$s.sockperf-server.log" 2>&1 &
		server_pids[$s]+=" $!"
		wait_listen "${ns_a[$s]}" 11111 || die "$s: sockperf server did not listen"
	fi
	wait_listen "${ns_a[$s]}" 5201 || die "$s: iperf3 server did not listen"
done

# ---------------------------------------------------------------- runs
# Every run appends to raw.csv (rep,setup,workload,metric,value,valid) and
# verify.csv (rep,setup,workload,payload_bytes,veth_bytes,redirected_bytes,valid,note).
echo "rep,setup,workload,metric,value,valid" >"$raw"
echo "rep,setup,workload,payload_bytes,veth_bytes,redirected_bytes,valid,note,sent_bytes" >"$verify"

# Checks one run of SETUP: prints "1 ok" or "0 reason".
check_run() { # check_run SETUP PAYLOAD VETH REDIRECTED [SMALL_WRITE_SWITCHES [BACKPRESSURE_SWITCHES]]
	local s=$1 payload=$2 veth=$3 red=$4 small=${5:-0} full=${6:-0}
	[ "$payload" -gt 0 ] || { echo "0 no-payload"; return; }
	case $s in
	patu-policy-*)
		[ "$(policy_entries "$s")" -ge 2 ] || { echo "0 policy-not-in-force"; return; } ;;
	patu-*)
		[ ! -e "${bpffs[$s]}/policy" ] || { echo "0 policy-present"; return; } ;;
	esac
	case $s in
	reference)
		[ "$veth" -ge "$payload" ] && echo "1 payload-on-veths" || echo "0 veths-carried-less-than-payload" ;;
	limit)  # lo counts each byte once on rx and once on tx
		[ "$veth" -ge "$payload" ] && echo "1 payload-on-loopback" || echo "0 loopback-carried-less-than-payload" ;;
	patu-plain | patu-policy-plain)
		if [ "$(sockops_on "${cg[$s]}")" != 0 ] || [ -n "$(ls -A "${bpffs[$s]}/sockmap" 2>/dev/null)" ]; then
			echo "0 sockmap-datapath-present"
		elif [ "$veth" -lt "$payload" ]; then
			echo "0 veths-carried-less-than-payload"
		else
			echo "1 payload-on-veths-no-sockops"
		fi ;;
	patu-accel | patu-policy-accel)
		# Redirected, or sent through TCP by the datapath's own rules (a stream of small writes; a reader
		# behind by redirectQueueBytes); either way the datapath must be attached and every byte accounted for
		# (TCP bytes cross both veths, so half the veth bytes count; with the packet datapath delivering
		# between the veths they cross only the writer's, and all of them count).
		local tcp_share=$((veth / 2))
		[ ! -d "${bpffs[$s]}/xdp" ] || tcp_share=$veth
		if [ "$(sockops_on "${cg[$s]}")" = 0 ]; then
			echo "0 no-sockops-program"
		elif [ $((red * 10)) -ge $((payload * 9)) ]; then
			echo "1 redirected>=90%"
		elif [ "$small" -gt 0 ] && [ $((red + tcp_share)) -ge "$payload" ]; then
			echo "1 small-write-stream-on-tcp"
		elif [ "$full" -gt 0 ] && [ $((red * 2)) -ge "$payload" ] && [ $((red + tcp_share)) -ge "$payload" ]; then
			echo "1 redirected-$((red * 100 / payload))%-rest-tcp-backpressure"
		else
			echo "0 redirected<90%"
		fi ;;
	esac
}

# One measured run: sets run_out (client output), run_busy_j, run_cg_us, run_veth, run_red.
measure() { # measure SETUP CMD...
	local s=$1; shift
	local v0 r0 b0 c0 d0 f0
	v0=$(veth_bytes "$s"); r0=$(redirected_bytes "$s"); d0=$(sockmap_counter "$s" to_plain_small)
	f0=$(sockmap_counter "$s" to_plain_full)
	c0=$(cg_usage_usec "${cg[$s]}"); b0=$(cpu_busy_jiffies)
	run_rc=0
	run_out=$(in_pod "${cg[$s]}" "${ns_b[$s]}" "$@" 2>&1) || run_rc=$?
	run_busy_j=$(( $(cpu_busy_jiffies) - b0 ))
	run_cg_us=$(( $(cg_usage_usec "${cg[$s]}") - c0 ))
	run_veth=$(( $(veth_bytes "$s") - v0 ))
	run_red=$(( $(redirected_bytes "$s") - r0 ))
	run_small=$(( $(sockmap_counter "$s" to_plain_small) - d0 ))
	run_full=$(( $(sockmap_counter "$s" to_plain_full) - f0 ))
}

record() { # record REP SETUP WORKLOAD VALID METRIC=VALUE...
	local rep=$1 s=$2 w=$3 ok=$4 kv; shift 4
	for kv in "$@"; do echo "$rep,$s,$w,${kv%%=*},${kv#*=},$ok" >>"$raw"; done
}

run_iperf() { # run_iperf REP SETUP WRITE_BYTES LABEL
	local rep=$1 s=$2 len=$3 w=iperf3-$4 try payload bps ok note gb sent
	for try in 1 2 3; do
		measure "$s" iperf3 -c "${ip_a[$s]}" -t "$iperf_secs" -l "$len" -J
		[ "$run_rc" = 0 ] && jq -e '.error == null and .end.sum_received.bytes > 0' <<<"$run_out" >/dev/null 2>&1 && break
		say "$s $w rep $rep: iperf3 failed (try $try): $(jq -r '.error // empty' <<<"$run_out" 2>/dev/null | head -c 200)"
		sleep 1
		if [ "$try" = 3 ]; then die "$s: iperf3 client failed three times"; fi
	done
	payload=$(jq '.end.sum_received.bytes' <<<"$run_out")
	bps=$(jq '.end.sum_received.bits_per_second' <<<"$run_out")
	sent=$(jq '.end.sum_sent.bytes' <<<"$run_out")
	read -r ok note < <(check_run "$s" "$payload" "$run_veth" "$run_red" "$run_small" "$run_full")
	echo "$rep,$s,$w,$payload,$run_veth,$run_red,$ok,$note,$sent" >>"$verify"
	gb=$(calc "$payload / 1e9")
	record "$rep" "$s" "$w" "$ok" \
		"thr_gbps=$(calc "$bps / 1e9")" \
		"cpu_machine_s_per_gb=$(calc "$run_busy_j / $hz / $gb")" \
		"cpu_pods_s_per_gb=$(calc "$run_cg_us / 1e6 / $gb")"
	say "$s $w rep $rep: $(calc "$bps / 1e9") Gbit/s, veth $run_veth B, redirected $run_red B of $payload B -> $note"
}

run_pp() { # run_pp REP SETUP MSG_BYTES LABEL
	local rep=$1 s=$2 size=$3 w=pingpong-$4 try txn p50 p99 payload ok note
	for try in 1 2 3; do
		measure "$s" "${pp_client_pin[@]}" sockperf pp --tcp -i "${ip_a[$s]}" -p 11111 -m "$size" -t "$pp_secs"
		txn=$(sed -n 's/.*\[Total Run\].*ReceivedMessages=\([0-9]*\).*/\1/p' <<<"$run_out" | head -n 1)
		p50=$(sed -n 's/.*percentile 50\.000 *= *\([0-9.]*\).*/\1/p' <<<"$run_out" | head -n 1)
		p99=$(sed -n 's/.*percentile 99\.000 *= *\([0-9.]*\).*/\1/p' <<<"$run_out" | head -n 1)
		[ "$run_rc" = 0 ] && [ -n "$txn" ] && [ "$txn" -gt 0 ] && [ -n "$p50" ] && [ -n "$p99" ] && break
		say "$s $w rep $rep: sockperf failed (try $try): $(tail -n 3 <<<"$run_out" | tr '\n' ' ' | head -c 300)"
		sleep 1
		if [ "$try" = 3 ]; then die "$s: sockperf client failed three times"; fi
	done
	payload=$((2 * size * txn))   # request and reply per transaction
	read -r ok note < <(check_run "$s" "$payload" "$run_veth" "$run_red" "$run_small" "$run_full")
	echo "$rep,$s,$w,$payload,$run_veth,$run_red,$ok,$note,$payload" >>"$verify"
	record "$rep" "$s" "$w" "$ok" \
		"p50_us=$p50" "p99_us=$p99" \
		"cpu_machine_us_per_txn=$(calc "$run_busy_j / $hz * 1e6 / $txn")" \
		"cpu_pods_us_per_txn=$(calc "$run_cg_us / $txn")"
	say "$s $w rep $rep: p50 $p50 us, p99 $p99 us, $txn transactions, veth $run_veth B, redirected $run_red B -> $note"
}

# Pre-flight: the pods of every setup talk over TCP (both directions), and
# patu-accel's redirection carries it.
for s in "${setups[@]}"; do
	measure "$s" iperf3 -c "${ip_a[$s]}" -t 1 --bidir -J
	[ "$run_rc" = 0 ] || die "$s: pods ${ip_b[$s]} and ${ip_a[$s]} cannot talk over TCP: $(jq -r '.error // empty' <<<"$run_out" 2>/dev/null)"
	tot=$(jq '[.end.streams[].receiver.bytes] | add // 0' <<<"$run_out")
	jq -e '(.end.streams | length) == 2 and all(.end.streams[]; .receiver.bytes > 0)' <<<"$run_out" >/dev/null \
		|| die "$s: pre-flight TCP exchange did not carry bytes both ways between the pods"
	read -r ok note < <(check_run "$s" "$tot" "$run_veth" "$run_red")
	say "$s pre-flight: pods talk (TCP both ways, $tot B), veth $run_veth B, redirected $run_red B -> $note"
	[ "$ok" = 1 ] || say "WARNING: $s pre-flight check failed ($note): its figures will come out INVALID"
done

if [ "$policy" = 1 ]; then
	time_policy_change patu-policy-accel
	say "patu-policy-accel: a 1,000-rule change reached the kernel in $change_ms ms (median of 10: $change_samples)"
fi

size_label() { if [ $(($1 % 1024)) = 0 ]; then echo "$(($1 / 1024))KiB"; else echo "$1B"; fi; }
iperf_sizes=() pp_sizes=()
for b in $write_sizes; do iperf_sizes+=("$b $(size_label "$b")"); done
for b in $pp_msg_sizes; do pp_sizes+=("$b $(size_label "$b")"); done
[ "$have_sockperf" = 1 ] || pp_sizes=()
start_s=$SECONDS
for ((rep = 1; rep <= reps; rep++)); do
	# The setup order rotates with the repetition, so no setup always runs first.
	order=()
	for ((i = 0; i < ${#setups[@]}; i++)); do order+=("${setups[$(((i + rep - 1) % ${#setups[@]}))]}"); done
	for wl in "${iperf_sizes[@]}"; do
		set -- $wl
		for s in "${order[@]}"; do run_iperf "$rep" "$s" "$1" "$2"; done
	done
	for wl in "${pp_sizes[@]}"; do
		set -- $wl
		for s in "${order[@]}"; do run_pp "$rep" "$s" "$1" "$2"; done
	done
	say "repetition $rep/$reps done ($((SECONDS - start_s)) s)"
done

# ---------------------------------------------------------------- CNI ADD/DEL wall time
# What a runtime waits for per pod: ADD, then DEL, of a fresh netns through the setup's plugin (Patu's
# forwarder and agent, or bridge + host-local). Each call is timed in the shell with $EPOCHREALTIME
# around the plugin's own exec, so no helper process sits inside the interval for either setup.
latency_csv=$tmp/cni-latency.csv
echo "setup,command,usec" >"$latency_csv"
usec_now() { local t=$EPOCHREALTIME; echo "${t/./}"; }
for s in reference patu-accel; do
	for ((i = 0; i < cni_runs; i++)); do
		nsname=$tag-lat-$i container=$tag-lat-$s-$i
		ip netns add "$nsname"
		latency_pod="$s $nsname $container"
		for cmd in ADD DEL; do
			t0=$(usec_now)
			CNI_COMMAND=$cmd CNI_CONTAINERID=$container CNI_NETNS=/run/netns/$nsname CNI_IFNAME=eth0 \
				CNI_PATH="${plugin_path[$s]}" PATU_SOCKET="${sock[$s]:-/nonexistent}" \
				"${plugin[$s]}" <"${netconf[$s]}" >"$tmp/latency.out" 2>&1 \
				|| die "$s: CNI $cmd of $container failed: $(cat "$tmp/latency.out")"
			t1=$(usec_now)
			echo "$s,$cmd,$((t1 - t0))" >>"$latency_csv"
		done
		ip netns del "$nsname"
		latency_pod=""
	done
done
say "CNI ADD/DEL timed: $cni_runs pairs per setup"

# ---------------------------------------------------------------- report
mkdir -p "$out"
cp "$raw" "$verify" "$out/"
cp "$tmp/reference.conflist" "$out/reference.conflist"

median_cell() { # median_cell SETUP WORKLOAD METRIC -> value | INVALID | n/a
	local rows
	rows=$(awk -F, -v s="$1" -v w="$2" -v m="$3" '$2 == s && $3 == w && $4 == m { print $6, $5 }' "$raw")
	[ -n "$rows" ] || { echo n/a; return; }
	grep -qv '^1 ' <<<"$rows" && { echo INVALID; return; }
	cut -d' ' -f2 <<<"$rows" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
fmt() { # fmt VALUE DECIMALS
	[[ $1 =~ ^[0-9.eE+-]+$ ]] && awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }' || echo "$1"
}
ratio() {
	[[ $1 =~ ^[0-9.eE+-]+$ && $2 =~ ^[0-9.eE+-]+$ ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }' || echo "n/a"
}
metric_label() {
	case $1 in
	thr_gbps) echo "throughput, Gbit/s (higher is better)" ;;
	cpu_machine_s_per_gb) echo "CPU, whole machine, s per GB" ;;
	cpu_pods_s_per_gb) echo "CPU, pods' processes, s per GB" ;;
	p50_us) echo "latency p50, us" ;;
	p99_us) echo "latency p99, us" ;;
	cpu_machine_us_per_txn) echo "CPU, whole machine, us per transaction" ;;
	cpu_pods_us_per_txn) echo "CPU, pods' processes, us per transaction" ;;
	esac
}
metric_short() {
	case $1 in
	thr_gbps) echo "Gbit/s" ;; cpu_machine_s_per_gb | cpu_machine_us_per_txn) echo "CPU machine" ;;
	cpu_pods_s_per_gb | cpu_pods_us_per_txn) echo "CPU pods" ;; p50_us) echo "p50" ;; p99_us) echo "p99" ;;
	esac
}
decimals() { case $1 in thr_gbps | cpu_machine_s_per_gb | cpu_pods_s_per_gb) echo 3 ;; *) echo 1 ;; esac; }
workload_label() {
	case $1 in
	iperf3-*) echo "iperf3 1 stream, ${1#iperf3-} writes" ;;
	pingpong-*) echo "sockperf TCP ping-pong, ${1#pingpong-}" ;;
	esac
}

rows=()
for wl in "${iperf_sizes[@]}"; do set -- $wl; for m in thr_gbps cpu_machine_s_per_gb cpu_pods_s_per_gb; do rows+=("iperf3-$2 $m"); done; done
for wl in "${pp_sizes[@]}"; do set -- $wl; for m in p50_us p99_us cpu_machine_us_per_txn cpu_pods_us_per_txn; do rows+=("pingpong-$2 $m"); done; done

csv=$out/results.csv md_table=$tmp/table.md plotdat=$tmp/plot.dat
patu_mtu_label=${patu_mtu:-65535 (the agent default)}
echo "workload,metric,reference,limit,patu-plain,patu-accel,ratio_plain_ref,ratio_accel_ref,ratio_plain_limit,ratio_accel_limit" >"$csv"
{
	echo "| workload | metric | reference | limit | patu-plain | patu-accel | plain/ref | accel/ref | plain/limit | accel/limit |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$md_table"
: >"$plotdat.hi"; : >"$plotdat.lo"
for r in "${rows[@]}"; do
	set -- $r
	w=$1 m=$2
	ref=$(median_cell reference "$w" "$m"); lim=$(median_cell limit "$w" "$m")
	pla=$(median_cell patu-plain "$w" "$m"); acc=$(median_cell patu-accel "$w" "$m")
	rp=$(ratio "$pla" "$ref"); ra=$(ratio "$acc" "$ref"); lp=$(ratio "$pla" "$lim"); la=$(ratio "$acc" "$lim")
	echo "$w,$m,$ref,$lim,$pla,$acc,$rp,$ra,$lp,$la" >>"$csv"
	d=$(decimals "$m")
	echo "| $(workload_label "$w") | $(metric_label "$m") | $(fmt "$ref" "$d") | $(fmt "$lim" "$d") | $(fmt "$pla" "$d") | $(fmt "$acc" "$d") | $rp | $ra | $lp | $la |" >>"$md_table"
	label="${w#iperf3-}"; [[ $w == pingpong-* ]] && label="pp ${w#pingpong-}"; [[ $w == iperf3-* ]] && label="iperf ${w#iperf3-}"
	[ "$rp" = n/a ] && rp=NaN; [ "$ra" = n/a ] && ra=NaN; [ "$la" = n/a ] && la=NaN
	if [ "$m" = thr_gbps ]; then
		echo "\"$label\" $rp $ra $la" >>"$plotdat.hi"
	else
		echo "\"$label $(metric_short "$m")\" $rp $ra $la" >>"$plotdat.lo"
	fi
done

# With --policy: Patu with policy against Patu without, per path.
policy_md=$tmp/policy.md
: >"$policy_md"
if [ "$policy" = 1 ]; then
	{
		echo "## Patu with policy (50 policies, 500 rules) against Patu without"
		echo
		echo "| workload | metric | patu-plain | patu-policy-plain | ratio | patu-accel | patu-policy-accel | ratio |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|"
		for r in "${rows[@]}"; do
			set -- $r
			w=$1 m=$2 d=$(decimals "$2")
			pla=$(median_cell patu-plain "$w" "$m"); ppl=$(median_cell patu-policy-plain "$w" "$m")
			acc=$(median_cell patu-accel "$w" "$m"); pac=$(median_cell patu-policy-accel "$w" "$m")
			echo "| $(workload_label "$w") | $(metric_label "$m") | $(fmt "$pla" "$d") | $(fmt "$ppl" "$d") | $(ratio "$ppl" "$pla") | $(fmt "$acc" "$d") | $(fmt "$pac" "$d") | $(ratio "$pac" "$acc") |"
		done
		echo
		echo "A 1,000-rule change (a policy file of 4 policies, 1,000 rules, added or removed), from its rename into the policy"
		echo "directory to the new generation in the kernel (bpftool polling, so a few ms are the probe's own):"
		echo "median $change_ms ms of 10 ($change_samples)."
		echo
	} >"$policy_md"
fi

# Verification summary: per setup and workload, medians over repetitions of
# veth bytes and redirected bytes relative to the payload, and valid runs.
verify_md=$tmp/verify.md
{
	echo "| setup | workload | valid runs | veth bytes / payload (median) | redirected / payload (median) | sent - received at the end, MB (median) |"
	echo "|---|---|---:|---:|---:|---:|"
	for s in "${setups[@]}"; do
		for w in $(awk -F, 'NR > 1 { print $3 }' "$verify" | awk '!seen[$0]++'); do
			awk -F, -v s="$s" -v w="$w" '
				$2 == s && $3 == w { n++; ok += $7; v[n] = $5 / $4; r[n] = $6 / $4; g[n] = ($9 - $4) / 1e6 }
				function med(a, n,   i, j, t) {
					for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
					return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
				}
				END { if (n) printf "| %s | %s | %d/%d | %.3f | %.3f | %.1f |\n", s, w, ok, n, med(v, n), med(r, n), med(g, n) }' "$verify"
		done
	done
} >"$verify_md"

# Chart: ratios against reference, throughput (higher is better) above,
# latency and CPU (lower is better) below.
gnuplot <<EOF || say "warning: gnuplot failed; no results.png"
set terminal pngcairo size 1400,900 font ",10" noenhanced
set output "$out/results.png"
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key outside top center horizontal
set yrange [0:*]
set multiplot layout 2,1 title "Patu vs reference bridge+host-local (MTU 1500) and vs the limit (loopback TCP in one netns): ratio of medians ($reps reps, $mode mode, Patu MTU $patu_mtu_label, $(uname -r), $(nproc) vCPU)"
set title "iperf3 throughput, ratio (higher is better; INVALID figures are left out)"
set xtics nomirror
plot "$plotdat.hi" using 2:xtic(1) title "patu-plain / reference" lc rgb "#7f7f7f", \
     "" using 3 title "patu-accel / reference" lc rgb "#1f77b4", \
     "" using 4 title "patu-accel / limit" lc rgb "#2ca02c", \
     "" using (\$0 - 0.25):2:(sprintf("%.2f", \$2)) with labels offset 0,0.6 font ",8" notitle, \
     "" using (\$0):3:(sprintf("%.2f", \$3)) with labels offset 0,0.6 font ",8" notitle, \
     "" using (\$0 + 0.25):4:(sprintf("%.2f", \$4)) with labels offset 0,0.6 font ",8" notitle, \
     1 with lines lc rgb "#d62728" lw 2 title "reference or limit = 1"
set title "latency and CPU cost, ratio (lower is better; INVALID figures are left out)"
set xtics rotate by -30
plot "$plotdat.lo" using 2:xtic(1) title "patu-plain / reference" lc rgb "#7f7f7f", \
     "" using 3 title "patu-accel / reference" lc rgb "#1f77b4", \
     "" using 4 title "patu-accel / limit" lc rgb "#2ca02c", \
     "" using (\$0 - 0.25):2:(sprintf("%.2f", \$2)) with labels offset 0,0.6 font ",7" notitle, \
     "" using (\$0):3:(sprintf("%.2f", \$3)) with labels offset 0,0.6 font ",7" notitle, \
     "" using (\$0 + 0.25):4:(sprintf("%.2f", \$4)) with labels offset 0,0.6 font ",7" notitle, \
     1 with lines lc rgb "#d62728" lw 2 title "reference or limit = 1"
unset multiplot
EOF

# p50 and p99 (nearest rank) of each setup's ADD and DEL wall times, in ms.
latency_md=$tmp/latency.md
if [ "$cni_runs" = 0 ]; then
	echo "CNI ADD/DEL wall time: not measured (--cni-runs 0)." >"$latency_md"
else {
	echo "## CNI ADD and DEL wall time ($cni_runs calls each, fresh netns per pod)"
	echo
	echo "| command | reference p50 | reference p99 | patu p50 | patu p99 | ratio p50 | ratio p99 |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for cmd in ADD DEL; do
		awk -F, -v c="$cmd" '
			function pct(a, n, p) { return a[int(p * n + 0.999999)] }
			function sortn(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
			$2 == c && $1 == "reference" { r[++nr] = $3 / 1000 }
			$2 == c && $1 == "patu-accel" { q[++nq] = $3 / 1000 }
			END {
				sortn(r, nr); sortn(q, nq)
				r50 = pct(r, nr, 0.5); r99 = pct(r, nr, 0.99); q50 = pct(q, nq, 0.5); q99 = pct(q, nq, 0.99)
				printf "| %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f | %.2f |\n", c, r50, r99, q50, q99, q50 / r50, q99 / r99
			}' "$latency_csv"
	done
	echo
	echo "Timed in the shell around the plugin's exec (bash \$EPOCHREALTIME); each pod gets a fresh network namespace, created"
	echo "and deleted outside the timed interval. Patu: the C forwarder plus the agent's work; reference: bridge + host-local."
} >"$latency_md"
fi
cp "$latency_csv" "$out/cni-latency.csv"

elapsed=$SECONDS
{
	echo "# Patu benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Mode $mode: $reps repetitions; iperf3 runs of $iperf_secs s, sockperf runs of $pp_secs s; medians over repetitions."
	if [ -n "$pp_cpus" ]; then echo "sockperf client pinned to CPU $pp_c, its server to CPU $pp_s (--pp-cpus)."
	else echo "sockperf client and server not pinned: the scheduler places them (--pp-cpus pins them)."; fi
	[ -z "$datapath_config" ] || echo "Datapath configuration on top of the defaults (both Patu agents): \`$datapath_config\`."
	echo "Patu node-local MTU (io.patu.lifecycle mtu): $patu_mtu_label; the reference runs at 1500, the limit over loopback (MTU 65536)."
	echo "Machine: $(uname -r), $(nproc) vCPU; load average at the end $(cut -d' ' -f1-3 /proc/loadavg) (other users' work counts in whole-machine CPU)."
	echo "Patu build: $patu_home (repo commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- bundles bpf cni 2>/dev/null || echo ', with uncommitted changes in bundles/bpf/cni'))."
	echo "Total run time: ${elapsed} s."
	echo
	cat "$md_table"
	echo
	cat "$policy_md"
	echo "Latency: sockperf's default, half the round-trip time. CPU, whole machine: busy jiffies"
	echo "(user+nice+system+irq+softirq) from /proc/stat over the client's run, all CPUs. CPU, pods'"
	echo "processes: usage_usec of the setup's cgroup v2 (client and server, including kernel work done in"
	echo "their context; softirq work in ksoftirqd is not in it). $perf_note."
	echo "A cell is INVALID when any of its repetitions failed the check below; n/a when not measured."
	echo
	echo "## What each setup did (every run checked)"
	echo
	echo "- reference: pods from $ref_cni_dir/bridge + host-local ($(basename "$out")/reference.conflist); valid when the"
	echo "  pods' host veths carried at least the payload."
	echo "- limit: client and server in one network namespace, over 127.0.0.1, in a cgroup of their own; valid when the"
	echo "  namespace's loopback device carried at least the payload."
	echo "- patu-plain: pods from Patu's CNI plugin; the agent's io.patu.datapath-sockmap bundle stopped through its Gogo"
	echo "  shell before the pods were created; valid when no sockops program is attached to its cgroup, no pin exists"
	echo "  under its bpffs sockmap directory, and the veths carried at least the payload."
	echo "- patu-accel: pods from Patu's CNI plugin, datapath active; valid when its sockops program is attached and"
	echo "  sockmap_stats bytes_redirected grew by at least 90 % of the payload during the run (payload: iperf3 bytes"
	echo "  received; ping-pong 2 x size x transactions), or when its own rules sent the rest through TCP and redirected"
	echo "  + half the veth bytes cover the payload: a stream of small writes (to_plain_small grew), or a reader behind"
	echo "  by redirectQueueBytes (to_plain_full grew, and at least half the payload redirected)."
	echo
	cat "$verify_md"
	echo
	echo "sent - received: bytes iperf3's client had written but its server had not yet read when the test ended, i.e. data"
	echo "queued in the kernel between the two sockets. On the TCP path it is bounded by the socket buffers (a few MB)."
	echo
	echo "Per-run values: raw.csv; per-run checks: verify.csv; chart: results.png."
	echo
	cat "$latency_md"
} >"$out/results.md"

say "done in ${elapsed} s; results in $out"
echo
cat "$md_table"
echo
cat "$latency_md"
