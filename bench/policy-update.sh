#!/usr/bin/env bash
# How long a policy change takes to reach the kernel in a running agent (issue 10, item 7: under 100 ms for
# a change to a 1,000-rule set).
#
# One agent (profile full) on a configuration of its own, 20 local pods (netns, added through the real CNI
# executable with K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS, as kubelet sends them) in 5 namespaces, and a
# realistic policy set of 1,000 rules: 100 NetworkPolicies of 5 ingress and 5 egress rules each, with pod,
# namespace and combined selectors, ipBlocks with excepts, numbered, ranged and named ports, spread over 10
# files of 10 policies (--layout files, the default) or in one file (--layout single). Then one policy is
# changed --changes times (a port of its first ingress rule, alternately): a new version of its file is
# written beside the directory and renamed into it, as editors and config management do.
#
#   rename-to-kernel   from the rename (the renamed file's change time, stat %Z) to the moment the agent stored the
#                      new generation in the kernel (the agent's clock, same machine: its log line "policy
#                      change ... in force at <epoch us>"), checked against the generation pinned in bpffs
#   stages             what the agent's log line says of each change (medians): the watcher's wake-up after
#                      the rename, the quiet period it waits for more events, read + parse, compile (engine
#                      and flattening), kernel write + switch
#
# Reports p50/p95/max over the changes (the first --warmup changes are left out: they load and compile
# classes), then the agent's idle RSS (VmRSS after --idle seconds without a change), measured twice: once the
# set is loaded and before the first change (what issue 10 item 7 bounds), and after the changes. With --without-policy
# the same agent and pods run with the policy feature disabled (features.json) and no change is made: the
# idle RSS to compare with (issue 10: at most 8 MiB more with the bundle and the 1,000-rule set loaded).
# Everything is removed afterwards, also on failure or Ctrl-C.
#
# Usage (as root): bench/policy-update.sh [--dist DIR] [--changes N] [--warmup N] [--layout files|single]
#                  [--pods N] [--idle S] [--without-policy]
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/as-root.sh"

bench_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
dist=$bench_dir/../distribution/target/patu
changes=40
warmup=5
layout=files
npods=20
idle=10
without_policy=0
cg_root=/sys/fs/cgroup/unified

die() { echo "policy-update: $*" >&2; exit 1; }
say() { echo "policy-update: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dist) dist=$2; shift 2 ;;
        --changes) changes=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --layout) layout=$2; shift 2 ;;
        --pods) npods=$2; shift 2 ;;
        --idle) idle=$2; shift 2 ;;
        --without-policy) without_policy=1; shift ;;
        -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done
case $layout in files|single) ;; *) die "--layout is files or single" ;; esac
dist=$(readlink -f "$dist")
[ -x "$dist/bin/patu" ] || die "no agent at $dist (build it: mvn -pl distribution -am package, or pass --dist)"
command -v jq >/dev/null || die "jq is missing (apt-get install jq)"
command -v bpftool >/dev/null || die "bpftool is missing (apt-get install bpftool)"

id=$(printf '%04x' $((RANDOM % 65536)))
work=$(mktemp -d "/tmp/patu-polbench-$id.XXXXXX")
bpffs=/sys/fs/bpf/patu-polbench-$id
cgroup=$cg_root/patu-polbench-$id
socket=$work/patu.sock
config=$work/patu.json
policy_dir=$work/policy
log=$work/agent.log
agent_pid=""
pods=()

cni() { # cni COMMAND POD_INDEX
    local p=$2
    env CNI_COMMAND="$1" CNI_CONTAINERID="polbench-$id-$p" CNI_NETNS="/run/netns/pb$id-$p" CNI_IFNAME=eth0 \
        CNI_PATH="$dist/cni" PATU_SOCKET="$socket" CNI_ARGS="K8S_POD_NAMESPACE=ns-$((p % 5));K8S_POD_NAME=pod-$p" \
        "$dist/cni/patu" <"$work/netconf.json"
}

cleanup() {
    set +e
    trap - INT TERM
    for p in "${pods[@]}"; do
        cni DEL "$p" >/dev/null 2>&1
        ip netns del "pb$id-$p" 2>/dev/null
    done
    if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
        kill -TERM "$agent_pid"
        for _ in $(seq 300); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$agent_pid" 2>/dev/null && kill -KILL "$agent_pid"
        wait "$agent_pid" 2>/dev/null
    fi
    [ -f "$config" ] && "$dist/bin/patu" purge --config "$config" >/dev/null 2>&1
    if [ -d "$cgroup" ]; then
        while read -r pid; do echo "$pid" >"$cg_root/cgroup.procs"; done <"$cgroup/cgroup.procs"
        rmdir "$cgroup"
    fi
    rm -rf -- "$bpffs" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mountpoint -q "$cg_root" || { mkdir -p "$cg_root"; mount -t cgroup2 none "$cg_root"; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

free_subnet() { # a /24 under 10.206.0.0/16 that no interface or route uses
    local third
    for third in $(shuf -i 1-254); do
        if ! ip -4 route show | grep -q "^10\.206\.$third\." && ! ip -4 addr show | grep -q " 10\.206\.$third\."; then
            echo "10.206.$third.0/24"
            return
        fi
    done
    die "no free /24 under 10.206.0.0/16"
}

# ------------------------------------------------------------------------------------------------- the set
# Namespaces ns-0..4 (team, env labels) and pods pod-0..N-1 (app, tier labels, named ports), as objects in
# the directory; 100 policies of 10 rules. Policy k's first ingress rule allows port $2 (the changed field).
write_metadata() { # write_metadata FILE
    awk -v pods="$npods" 'BEGIN {
        for (n = 0; n < 5; n++)
            printf "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-%d, labels: {team: t%d, env: %s}}\n---\n", n, n % 3, (n < 3 ? "prod" : "dev")
        for (p = 0; p < pods; p++)
            printf "apiVersion: v1\nkind: Pod\nmetadata: {name: pod-%d, namespace: ns-%d, labels: {app: app-%d, tier: %s}}\nspec: {containers: [{name: c, ports: [{name: http, containerPort: %d}, {name: metrics, containerPort: 9%03d, protocol: TCP}]}]}\n---\n", p, p % 5, int(p / 5) % 4, (p % 2 ? "back" : "front"), 8080 + p % 3, p
    }' >"$1"
}
write_policies() { # write_policies FILE FIRST COUNT CHANGED_PORT: policies FIRST..FIRST+COUNT-1
    awk -v first="$2" -v count="$3" -v changed="$4" 'BEGIN {
        for (k = first; k < first + count; k++) {
            ns = k % 5; a = k % 4
            if (k > first) print "---"
            printf "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: pol-%d, namespace: ns-%d}\nspec:\n", k, ns
            if (k % 3 == 0) printf "  podSelector: {matchLabels: {app: app-%d}}\n", a
            else if (k % 3 == 1) printf "  podSelector: {matchExpressions: [{key: tier, operator: In, values: [%s]}]}\n", (k % 2 ? "back" : "front")
            else print "  podSelector: {}"
            print "  policyTypes: [Ingress, Egress]"
            print "  ingress:"
            printf "  - from: [{podSelector: {matchLabels: {app: app-%d}}}]\n    ports: [{port: %d, protocol: TCP}]\n", (a + 1) % 4, (k == 0 ? changed : 7000 + k)
            printf "  - from: [{namespaceSelector: {matchLabels: {team: t%d}}}]\n    ports: [{port: http}]\n", k % 3
            printf "  - from: [{namespaceSelector: {matchLabels: {env: prod}}, podSelector: {matchLabels: {tier: front}}}]\n    ports: [{port: 8000, endPort: 8100, protocol: TCP}]\n"
            printf "  - from: [{ipBlock: {cidr: 10.%d.0.0/16, except: [10.%d.%d.0/24]}}]\n    ports: [{port: 443}, {port: 53, protocol: UDP}]\n", 100 + k % 100, 100 + k % 100, k % 250
            printf "  - from: [{ipBlock: {cidr: 172.%d.%d.0/24}}, {podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [app-%d]}]}}]\n    ports: [{port: metrics}]\n", 16 + k % 16, k % 250, a
            print "  egress:"
            printf "  - to: [{podSelector: {matchLabels: {app: app-%d}}}]\n    ports: [{port: http}]\n", (a + 2) % 4
            printf "  - to: [{namespaceSelector: {matchExpressions: [{key: env, operator: In, values: [prod]}]}}]\n    ports: [{port: %d, protocol: TCP}]\n", 9000 + k
            printf "  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.%d.0/24]}}]\n    ports: [{port: 443}, {port: 80}]\n", k % 250
            printf "  - to: [{ipBlock: {cidr: 10.96.0.0/12}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n"
            printf "  - to: [{ipBlock: {cidr: fd00:%x::/32, except: [fd00:%x:1::/48]}}]\n    ports: [{port: 5000, endPort: 5010}]\n", k, k
        }
    }' >"$1"
}
# Writes the policies into the directory (before the agent starts) and the two versions of the changed file.
write_set() {
    mkdir -p "$policy_dir"
    write_metadata "$policy_dir/00-metadata.yaml"
    if [ "$layout" = files ]; then
        for f in $(seq 0 9); do write_policies "$policy_dir/policies-$f.yaml" $((f * 10)) 10 6000; done
        changed_file=policies-0.yaml
        write_policies "$work/version-a.yaml" 0 10 6000
        write_policies "$work/version-b.yaml" 0 10 6001
    else
        write_policies "$policy_dir/policies.yaml" 0 100 6000
        changed_file=policies.yaml
        write_policies "$work/version-a.yaml" 0 100 6000
        write_policies "$work/version-b.yaml" 0 100 6001
    fi
}

# ------------------------------------------------------------------------------------------------- the agent
mkdir -p "$cgroup"
jq -n --arg bridge "pqb$id" --arg socket "$socket" --arg state "$work/state" --arg subnet "$(free_subnet)" \
      --arg bpffs "$bpffs" --arg cgroup "$cgroup" --arg table "patu_pb_$id" --arg policy "$policy_dir" '{
    ":configurator:resource-version": 1,
    "io.patu.lifecycle": {bridgeName: $bridge, socketPath: $socket, stateDir: $state},
    "io.patu.ipam": {subnet: $subnet, gateway: "", stateDir: $state},
    "io.patu.datapath.sockmap": {bpffsDir: $bpffs, cgroupPath: $cgroup},
    "io.patu.egress": {table: $table},
    "io.patu.metrics": {port: 0},
    "io.patu.datapath.xdp": {bpffsDir: $bpffs, nodeCgroup: $cgroup},
    "io.patu.policy": {bpffsDir: $bpffs, policyDir: $policy}}' >"$config"
echo '{"cniVersion":"1.0.0","name":"polbench-'"$id"'","type":"patu"}' >"$work/netconf.json"
write_set
if [ "$without_policy" = 1 ]; then
    mkdir -p "$work/state"
    echo '{"disabled": ["policy"]}' >"$work/state/features.json"
fi
rules=$(cat "$policy_dir"/policies*.yaml | grep -cE '^  - (from|to):')
say "$rules rules in $(ls "$policy_dir" | wc -l) files ($layout), $npods pods; agent $dist, config $config"

"$dist/bin/patu" run --profile full --config "$config" </dev/null >"$log" 2>&1 &
agent_pid=$!
generation_pin=$bpffs/policy/policy_generation
for i in $(seq 600); do
    echo '{"cniVersion":"1.0.0"}' | PATU_SOCKET=$socket CNI_COMMAND=VERSION "$dist/cni/patu" >/dev/null 2>&1 \
        && { [ "$without_policy" = 1 ] || [ -e "$generation_pin" ]; } && break
    kill -0 "$agent_pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "the agent exited during start-up"; }
    [ "$i" -lt 600 ] || { tail -n 30 "$log" >&2; die "the agent did not start within 60 s"; }
    sleep 0.1
done
kernel_generation() {
    bpftool -j map lookup pinned "$generation_pin" key 0 0 0 0 2>/dev/null \
        | jq -r '(.formatted.value // .value) | if type == "array" then ([.[] | if type == "string" then tonumber else . end] | reverse | reduce .[] as $b (0; . * 256 + $b)) else . end'
}
for p in $(seq 0 $((npods - 1))); do
    ip netns add "pb$id-$p"
    pods+=("$p")
    out=$(cni ADD "$p") || die "CNI ADD of pod $p failed: $out"
done
rss_report() { # the agent's JVM after --idle seconds without a change
    sleep "$idle"
    [ "$(cat "/proc/$agent_pid/comm")" = java ] || die "pid $agent_pid is not the agent's JVM"
    awk -v idle="$idle" -v what="$1" '/^VmRSS:/ { printf "idle RSS (%s, %d s after the last change): %.1f MiB\n", what, idle, $2 / 1024 }' "/proc/$agent_pid/status"
}
if [ "$without_policy" = 1 ]; then
    say "agent ready, $npods pods added, policy disabled"
    echo "Patu without policy (features.json disables it), $npods pods; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    rss_report "policy disabled"
    exit 0
fi
say "agent ready, $npods pods added, kernel generation $(kernel_generation)"
# Issue 10's memory figure: the bundle and the set loaded, before any change (the changes below add the
# compiled code and heap of 45 re-parses, reported at the end).
rss_loaded=$(rss_report "policy with $rules rules loaded, before any change")

# ------------------------------------------------------------------------------------------------- changes
# The agent logs each directory change that reached the kernel as
#   policy change in force at <epoch us>: event at <epoch us>, quiet <us>, read <us> (F files parsed),
#   compiled <us>, kernel <us> (generation G, R rules, P pods, E entries)
in_force_lines() { grep -c 'policy change in force at' "$log" || true; }
samples=$work/samples.txt
stages=$work/stages.txt
: >"$samples"
: >"$stages"
sleep 1
for n in $(seq 1 $((changes + warmup))); do
    version=$([ $((n % 2)) = 1 ] && echo b || echo a)
    before=$(in_force_lines)
    g0=$(kernel_generation)
    # Written outside the watched directory (same file system), then renamed in: one event, a whole file.
    cp "$work/version-$version.yaml" "$work/next.yaml"
    mv "$work/next.yaml" "$policy_dir/$changed_file"
    # The rename's own moment: the inode's change time (fine-grained on this kernel), not the fork of mv.
    t0=$(stat -c %.6Z "$policy_dir/$changed_file")
    t0=${t0/./}
    for i in $(seq 1000); do
        [ "$(in_force_lines)" -gt "$before" ] && break
        kill -0 "$agent_pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "the agent died"; }
        sleep 0.01
    done
    [ "$(in_force_lines)" -gt "$before" ] || { tail -n 30 "$log" >&2; die "change $n did not reach the kernel within 10 s"; }
    line=$(grep 'policy change in force at' "$log" | tail -n 1)
    t1=$(sed -E 's/.*in force at ([0-9]+).*/\1/' <<<"$line")
    g1=$(kernel_generation)
    [ "$g1" -gt "$g0" ] || die "change $n: the agent logged a switch but the kernel's generation is still $g0"
    if [ "$n" -gt "$warmup" ]; then
        echo $(( (t1 - t0) )) >>"$samples"
        sed -E 's/.*event at ([0-9]+) us.*quiet ([0-9]+) us.*read ([0-9]+) us.*compiled ([0-9]+) us.*kernel (-?[0-9]+) us.*/\1 \2 \3 \4 \5/' <<<"$line" \
            | awk -v t0="$t0" '{ print $1 - t0, $2, $3, $4, $5 }' >>"$stages"
    fi
    sleep 0.3
done

pct() { # pct P FILE (values in us) -> ms
    sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; printf "%.1f", v[i] / 1000 }'
}
median_col() { awk -v c="$1" '{ print $c }' "$stages" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'; }
echo "Patu policy update: $rules rules, $npods pods, layout $layout, $changes changes (after $warmup warm-up); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -s "$samples" ]; then
    echo
    echo "| rename to kernel | p50 | p95 | max |"
    echo "|---|---:|---:|---:|"
    echo "| ms | $(pct 50 "$samples") | $(pct 95 "$samples") | $(pct 100 "$samples") |"
    echo
    echo "stages, medians (ms): watcher woke $(median_col 1), quiet period $(median_col 2), read+parse $(median_col 3), compile $(median_col 4), kernel write+switch $(median_col 5)"
    grep 'policy change in force at' "$log" | tail -n 1 | sed 's/^/last: /' || true
fi
echo "$rss_loaded"
rss_report "policy with $rules rules, after $((changes + warmup)) changes"
