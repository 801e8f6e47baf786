#!/usr/bin/env bash
# Patu footprint: for each profile, how long the agent takes to become ready and how much memory it
# holds once idle.
#
#   ready     from exec of 'bin/patu run --profile P' to the agent answering a CNI VERSION call made
#             through the real CNI executable (cni/patu), polled every 10 ms
#   RSS       VmRSS of the agent's JVM after it has been idle for --idle seconds
#   private   Private_Clean + Private_Dirty of /proc/PID/smaps_rollup at the same moment: what the
#             agent alone costs, without the shared pages of libc, libjvm and the page cache
#
# Every run is a fresh agent on a configuration of its own (bridge, /24 subnet, socket, state dir,
# bpffs dir, a child cgroup v2 created for it); figures are medians over --runs runs. Everything is
# removed afterwards, also on failure or Ctrl-C: SIGTERM to the agent, 'bin/patu purge', the cgroup,
# the temporary directory.
#
# Usage (as root): bench/footprint.sh [--dist DIR] [--profiles "minimal full"] [--runs N] [--idle S]
#   --dist DIR   the assembled agent (default: distribution/target/patu)
# The agent's environment passes through: PATU_JVM_OPTS (extra JVM options), PATU_AOT=off, ...
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/as-root.sh"

bench_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
dist=$bench_dir/../distribution/target/patu
profiles="minimal full"
runs=5
idle=10
cg_root=/sys/fs/cgroup/unified

die() { echo "footprint: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dist) dist=$2; shift 2 ;;
        --profiles) profiles=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done
dist=$(readlink -f "$dist")
[ -x "$dist/bin/patu" ] || die "no agent at $dist (build it: mvn install, or pass --dist)"
command -v jq >/dev/null || die "jq is missing (apt-get install jq)"

work=$(mktemp -d /tmp/patu-footprint.XXXXXX)
agent_pid=""
config=""
cgroup=""

# Stops the agent of the current run and removes everything the run created.
end_run() {
    set +e
    if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
        kill -TERM "$agent_pid"
        for _ in $(seq 300); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$agent_pid" 2>/dev/null && kill -KILL "$agent_pid"
        wait "$agent_pid" 2>/dev/null
    fi
    agent_pid=""
    if [ -n "$config" ] && [ -f "$config" ]; then
        "$dist/bin/patu" purge --config "$config" >/dev/null
    fi
    config=""
    if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then
        # Anything still inside goes back to the parent before the cgroup can go.
        while read -r pid; do echo "$pid" >"$cg_root/cgroup.procs"; done <"$cgroup/cgroup.procs"
        rmdir "$cgroup"
    fi
    cgroup=""
    set -e
}
cleanup() {
    end_run
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mountpoint -q "$cg_root" || { mkdir -p "$cg_root"; mount -t cgroup2 none "$cg_root"; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# A /24 under 10.205.0.0/16 that no interface or route on this machine uses.
free_subnet() {
    local third
    for third in $(shuf -i 1-254); do
        if ! ip -4 route show | grep -q "^10\.205\.$third\." && ! ip -4 addr show | grep -q " 10\.205\.$third\."; then
            echo "10.205.$third.0/24"
            return
        fi
    done
    die "no free /24 under 10.205.0.0/16"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

answers() {
    echo '{"cniVersion":"1.0.0"}' | PATU_SOCKET="$1" CNI_COMMAND=VERSION "$dist/cni/patu" >/dev/null 2>&1
}

# One agent: start, time to ready, idle, memory. Prints "ready_ms rss_kib private_kib".
measure() {
    local profile=$1 id dir socket t0 t1 rss private
    id=$(printf '%04x' $((RANDOM % 65536)))
    dir="$work/$profile-$id"
    mkdir -p "$dir"
    socket="$dir/patu.sock"
    cgroup="$cg_root/patu-fp-$id"
    mkdir "$cgroup"
    config="$dir/patu.json"
    jq -n --arg bridge "pfp$id" --arg socket "$socket" --arg state "$dir/state" --arg subnet "$(free_subnet)" \
          --arg bpffs "/sys/fs/bpf/patu-fp-$id" --arg cgroup "$cgroup" --arg table "patu_fp_$id" '{
        "io.patu.lifecycle": {bridgeName: $bridge, mtu: 1500, socketPath: $socket, stateDir: $state},
        "io.patu.ipam": {subnet: $subnet, stateDir: $state},
        "io.patu.datapath.sockmap": {bpffsDir: $bpffs, cgroupPath: $cgroup},
        "io.patu.egress": {table: $table},
        "io.patu.metrics": {port: 0},
        "io.patu.datapath.xdp": {bpffsDir: $bpffs, nodeCgroup: $cgroup},
        "io.patu.policy": {bpffsDir: $bpffs, policyDir: ($state + "/policy")}}' >"$config"
    t0=$(now_ms)
    "$dist/bin/patu" run --profile "$profile" --config "$config" </dev/null >"$dir/agent.log" 2>&1 &
    agent_pid=$!
    until answers "$socket"; do
        if ! kill -0 "$agent_pid" 2>/dev/null; then
            tail -n 20 "$dir/agent.log" >&2
            die "the $profile agent exited before answering"
        fi
        [ $(( $(now_ms) - t0 )) -lt 30000 ] || die "the $profile agent did not answer within 30 s"
        sleep 0.01
    done
    t1=$(now_ms)
    [ "$(cat "/proc/$agent_pid/comm")" = java ] || die "pid $agent_pid is not the agent's JVM"
    sleep "$idle"
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$agent_pid/status")
    private=$(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$agent_pid/smaps_rollup")
    end_run
    echo "$((t1 - t0)) $rss $private"
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

echo "Patu footprint: $dist, $runs runs per profile, idle ${idle} s; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "${PATU_JVM_OPTS:-}" ] || echo "PATU_JVM_OPTS=$PATU_JVM_OPTS"
[ -z "${PATU_AOT:-}" ] || echo "PATU_AOT=$PATU_AOT"
echo
echo "| profile | ready, median (min-max) | idle RSS, median | private, median |"
echo "|---|---:|---:|---:|"
for profile in $profiles; do
    results="$work/$profile.txt"
    : >"$results"
    for _ in $(seq "$runs"); do
        measure "$profile" >>"$results"
    done
    ready=$(cut -d' ' -f1 "$results" | median)
    ready_min=$(cut -d' ' -f1 "$results" | sort -n | head -n 1)
    ready_max=$(cut -d' ' -f1 "$results" | sort -n | tail -n 1)
    rss=$(cut -d' ' -f2 "$results" | median)
    private=$(cut -d' ' -f3 "$results" | median)
    echo "| $profile | $ready ms ($ready_min-$ready_max) | $(mib "$rss") MiB | $(mib "$private") MiB |"
done
