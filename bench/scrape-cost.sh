#!/usr/bin/env bash
# What Prometheus costs the agent: time per scrape of /metrics with N pods (default 100), and the agent's
# resident memory across 1,000 scrapes (it must stay flat: a scrape allocates only short-lived objects).
#
#   scrape    wall time of one GET /metrics as curl sees it over a kept-alive connection (as Prometheus
#             scrapes), median and p99 over --scrapes scrapes, and the agent's own figure for collecting
#             and rendering (patu_metrics_scrape_seconds_total over the scrapes, a mean)
#   RSS       VmRSS of the agent's JVM when it has started (after 20 scrapes and --idle seconds), after
#             --warmup scrapes (default 1,000: C1 compiles the scrape path and the Java heap's pages are
#             touched for the first time, up to the committed heap), and after every quarter of the
#             measured --scrapes, which must leave it flat
#
# The agent runs on a configuration of its own (bridge, /24, socket, state dir, bpffs dir, a child cgroup
# v2, metrics on a free loopback port); the pods are network namespaces added through the real CNI
# executable. Everything is removed afterwards, also on failure or Ctrl-C. No reference plugin exposes
# metrics, so these figures are absolute, not ratios.
#
# Usage (as root): bench/scrape-cost.sh [--dist DIR] [--pods N] [--scrapes N] [--warmup N] [--idle S] [--profile P]
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/as-root.sh"

bench_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
dist=$bench_dir/../distribution/target/patu
pods=100
scrapes=1000
warmup=1000
idle=10
profile=full
cg_root=/sys/fs/cgroup/unified

die() { echo "scrape-cost: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dist) dist=$2; shift 2 ;;
        --pods) pods=$2; shift 2 ;;
        --scrapes) scrapes=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        --profile) profile=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done
[ "$pods" -le 250 ] || die "--pods at most 250 (one /24)"
dist=$(readlink -f "$dist")
[ -x "$dist/bin/patu" ] || die "no agent at $dist (build it, or pass --dist)"
command -v jq >/dev/null || die "jq is missing (apt-get install jq)"
command -v curl >/dev/null || die "curl is missing (apt-get install curl)"

id=$(printf '%04x' $((RANDOM % 65536)))
work=$(mktemp -d /tmp/patu-scrape.XXXXXX)
socket=$work/patu.sock
cgroup=$cg_root/patu-sc-$id
config=$work/patu.json
agent_pid=""
made_pods=0

cleanup() {
    set +e
    for i in $(seq "$made_pods"); do
        env CNI_COMMAND=DEL CNI_CONTAINERID="psc-$id-$i" CNI_NETNS="/run/netns/psc-$id-$i" CNI_IFNAME=eth0 \
            CNI_PATH="$dist/cni" PATU_SOCKET="$socket" "$dist/cni/patu" <<<'{"cniVersion":"1.0.0","name":"psc","type":"patu"}' >/dev/null 2>&1
        ip netns del "psc-$id-$i" 2>/dev/null
    done
    if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
        kill -TERM "$agent_pid"
        for _ in $(seq 300); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$agent_pid" 2>/dev/null && kill -KILL "$agent_pid"
        wait "$agent_pid" 2>/dev/null
    fi
    [ -f "$config" ] && "$dist/bin/patu" purge --config "$config" >/dev/null
    if [ -d "$cgroup" ]; then
        while read -r pid; do echo "$pid" >"$cg_root/cgroup.procs"; done <"$cgroup/cgroup.procs"
        rmdir "$cgroup"
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mountpoint -q "$cg_root" || { mkdir -p "$cg_root"; mount -t cgroup2 none "$cg_root"; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir "$cgroup"

subnet=""
for third in $(shuf -i 1-254); do
    if ! ip -4 route show | grep -q "^10\.206\.$third\." && ! ip -4 addr show | grep -q " 10\.206\.$third\."; then
        subnet="10.206.$third.0/24"
        break
    fi
done
[ -n "$subnet" ] || die "no free /24 under 10.206.0.0/16"
jq -n --arg bridge "psc$id" --arg socket "$socket" --arg state "$work/state" --arg subnet "$subnet" \
      --arg bpffs "/sys/fs/bpf/patu-sc-$id" --arg cgroup "$cgroup" --arg id "$id" '{
    "io.patu.lifecycle": {bridgeName: $bridge, mtu: 1500, socketPath: $socket, stateDir: $state},
    "io.patu.ipam": {subnet: $subnet, stateDir: $state},
    "io.patu.datapath.sockmap": {bpffsDir: $bpffs, cgroupPath: $cgroup},
    "io.patu.datapath.xdp": {bpffsDir: $bpffs, nodeCgroup: $cgroup},
    "io.patu.policy": {bpffsDir: $bpffs, policyDir: ($state + "/policy")},
    "io.patu.egress": {table: ("patu_sc_" + $id)},
    "io.patu.metrics": {listenAddress: "127.0.0.1", port: 0}}' >"$config"

"$dist/bin/patu" run --profile "$profile" --config "$config" </dev/null >"$work/agent.log" 2>&1 &
agent_pid=$!
# Port 0: the bundle takes a free port and logs it ("metrics on http://127.0.0.1:PORT/metrics").
url=""
for _ in $(seq 300); do
    url=$(grep -o 'metrics on http://[^ ]*/metrics' "$work/agent.log" | head -n 1 | cut -d' ' -f3 || true)
    [ -n "$url" ] && curl -sf -o /dev/null "$url" && break
    kill -0 "$agent_pid" 2>/dev/null || { tail -n 20 "$work/agent.log" >&2; die "the agent exited"; }
    sleep 0.1
done
[ -n "$url" ] && curl -sf -o /dev/null "$url" || die "the agent's metrics did not answer within 30 s (log: $work/agent.log)"

for i in $(seq "$pods"); do
    ip netns add "psc-$id-$i"
    made_pods=$i
    env CNI_COMMAND=ADD CNI_CONTAINERID="psc-$id-$i" CNI_NETNS="/run/netns/psc-$id-$i" CNI_IFNAME=eth0 \
        CNI_PATH="$dist/cni" PATU_SOCKET="$socket" "$dist/cni/patu" <<<'{"cniVersion":"1.0.0","name":"psc","type":"patu"}' \
        >/dev/null || die "ADD of pod $i failed"
done
series=$(curl -sf "$url" | grep -c '^patu_sockmap_pod_redirected_bytes_total{')
[ "$series" -eq "$pods" ] || die "the scrape has $series per-pod series, not $pods"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$agent_pid/status"; }
scrape_batch() { # $1 scrapes over one kept-alive connection; appends each time_total (s) to $work/times
    local urls=()
    for _ in $(seq "$1"); do urls+=(-o /dev/null "$url"); done
    curl -sf -w '%{time_total}\n' "${urls[@]}" >>"$work/times"
}

heap() { curl -sf "$url" | awk '/^patu_jvm_heap_committed_bytes / {printf "%.1f", $2 / 1048576}'; }
own_seconds() { curl -sf "$url" | awk '/^patu_metrics_scrape_seconds_total / {print $2}'; }
scrape_batch 20
sleep "$idle"
rss_start=$(rss)
[ "$warmup" -eq 0 ] || scrape_batch "$warmup"
: >"$work/times"
heap_before=$(heap)
own_before=$(own_seconds)
rss_before=$(rss)
rss_points="$rss_before"
quarter=$((scrapes / 4))
for _ in 1 2 3 4; do
    scrape_batch "$quarter"
    rss_points="$rss_points $(rss)"
done
rss_after=$(rss)
heap_after=$(heap)
body=$(curl -sf "$url")
bytes=$(printf '%s' "$body" | wc -c)
# The agent's own time over the measured scrapes (and the two heap/own-time scrapes between them).
server_ms=$(printf '%s\n' "$body" | awk -v before="$own_before" -v n=$((quarter * 4 + 2)) \
    '/^patu_metrics_scrape_seconds_total / {printf "%.2f", ($2 - before) * 1000 / n}')
read -r median p99 < <(sort -n "$work/times" | awk '{v[NR] = $1} END {printf "%.2f %.2f\n", v[int((NR + 1) / 2)] * 1000, v[int(NR * 0.99)] * 1000}')

echo "Patu scrape cost: $dist, profile $profile, $pods pods, $((quarter * 4)) scrapes; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
echo "| pods | exposition | scrape wall, median | p99 | agent's own (collect + render), mean | RSS started | after $warmup warm-up scrapes | after $((quarter * 4)) more | RSS every quarter (KiB) | heap committed |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
printf '| %d | %d KiB | %s ms | %s ms | %s ms | %s MiB | %s MiB | %s MiB | %s | %s, %s MiB |\n' "$pods" $((bytes / 1024)) "$median" "$p99" \
    "$server_ms" "$(mib "$rss_start")" "$(mib "$rss_before")" "$(mib "$rss_after")" "$rss_points" "$heap_before" "$heap_after"
