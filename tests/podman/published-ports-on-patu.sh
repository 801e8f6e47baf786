#!/usr/bin/env bash
# published-ports-on-patu.sh: 'podman run -p' on a Patu CNI network WITHOUT portmap: the published port is
# served by Patu's xdp feature in eBPF (docs/datapath-xdp.md, "Published ports"). A container publishes a
# TCP port; it is reached from an "outside" namespace whose veth to the host is the agent's ingress device
# (native XDP), from the node itself (cgroup socket hooks) and from another container (tcx on its veth), and
# each client reads the container's greeting. Nothing is in iptables or nftables for it; stopping the xdp
# feature withdraws the port and starting it restores it; a NetworkPolicy denying the container's ingress
# denies the published port too; podman rm (DEL) and a CNI GC release the port_map entries.
#
# Run as root on Debian 12 after the build (mvn -B -q install -DskipTests):
#     sudo tests/podman/published-ports-on-patu.sh
# Environment: PATU_DIST   the assembled agent (default: <repo>/distribution/target/patu)
#              PATU_SUBNET a free /24 for the test pods (default: the first free 10.78.N.0/24, N = 200..250)
#
# Everything is private to this run, as in podman-on-patu.sh (whose scaffolding this shares), and is
# removed on exit and checked to be gone. Exit status 0 only if the test passed and nothing was left.

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
DIST=${PATU_DIST:-$REPO/distribution/target/patu}
IMAGE=localhost/patu-busybox:1
PORT=5000
HOST_PORT=$((18000 + $$ % 1000))
PACKAGES=(podman runc containernetworking-plugins busybox-static jq bpftool iproute2 util-linux iptables nftables ethtool
          tcpdump)

ID=$$
NET=patu-pub-$ID                # podman network, CNI conflist name, container name prefix
BRIDGE=patupub$ID               # at most 15 characters
CG=patu-pub-$ID                 # cgroup (v2 under /sys/fs/cgroup/unified, and v1 where runc puts it)
CG2=/sys/fs/cgroup/unified/$CG
NODE_CG=$CG2/node               # the node's own clients: the agent's nodeCgroup is $CG2
BPFFS=/sys/fs/bpf/patu-pub-$ID
OUTSIDE_NS=patu-pub-out-$ID     # the "outside", beyond the ingress device
OUT_HOST=patupo$ID              # the ingress device: the host end of the outside's veth
OUTSIDE2_NS=patu-pub-o2-$ID     # a second outside, beyond a publish device (tcx, as for a NIC without native XDP)
OUT2_HOST=patupq$ID
STARTED=$(date +%s%N)

SCENARIO=published-ports
OUTSIDE_MADE=0
OUTSIDE2_MADE=0
BRIDGED_PID=""

# NAT state of this run (its bridge, egress table, network, subnet): none before, and none may be left after.
# Other agents on the machine may change their own at any time, which is why only this run's is compared.
nat_snapshot() {
    { iptables-save -t nat; ip6tables-save -t nat; nft list tables; } 2>/dev/null \
        | grep -e "$BRIDGE" -e "patu_pub_$ID" -e "$NET" ${SUBNET:+-e "${SUBNET%.*}."} || true
}
scenario_teardown() {
    [ -n "$BRIDGED_PID" ] && kill "$BRIDGED_PID" 2>/dev/null
    [ "$OUTSIDE_MADE" = 1 ] && ip netns del "$OUTSIDE_NS" 2>/dev/null   # its veth goes with it
    [ "$OUTSIDE2_MADE" = 1 ] && ip netns del "$OUTSIDE2_NS" 2>/dev/null
    return 0
}
scenario_late_teardown() { [ -d "$NODE_CG" ] && rmdir "$NODE_CG" 2>/dev/null; return 0; }

# shellcheck source=tests/podman/scaffold.sh
. "$REPO/tests/podman/scaffold.sh"

# --- the outside: a namespace beyond the ingress device ---------------------------------------------------
# Created before the agent, which attaches native XDP to the ingress devices it is configured with at start.
out_net=""
for n in $(seq 100 199); do subnet_free "198.18.$n.0/24" && { out_net=198.18.$n; break; }; done
[ -n "$out_net" ] || fail "no free 198.18.N.0/24 (N = 100..199) for the outside namespace"
ip netns add "$OUTSIDE_NS" || fail "ip netns add $OUTSIDE_NS failed"
OUTSIDE_MADE=1
NETNS+=("/run/netns/$OUTSIDE_NS"); VETHS+=("$OUT_HOST")
ip link add "$OUT_HOST" type veth peer name eth0 netns "$OUTSIDE_NS"
ip addr add "$out_net.1/24" dev "$OUT_HOST" && ip link set "$OUT_HOST" up
ip -n "$OUTSIDE_NS" addr add "$out_net.2/24" dev eth0 && ip -n "$OUTSIDE_NS" link set eth0 up && ip -n "$OUTSIDE_NS" link set lo up
# Complete checksums, as a NIC hands frames to XDP (a veth would pass partial ones on).
ip netns exec "$OUTSIDE_NS" ethtool -K eth0 tx off >/dev/null
out2_net=""
for n in $(seq 100 199); do [ "198.18.$n" != "$out_net" ] && subnet_free "198.18.$n.0/24" && { out2_net=198.18.$n; break; }; done
[ -n "$out2_net" ] || fail "no second free 198.18.N.0/24 (N = 100..199) for the second outside namespace"
ip netns add "$OUTSIDE2_NS" || fail "ip netns add $OUTSIDE2_NS failed"
OUTSIDE2_MADE=1
NETNS+=("/run/netns/$OUTSIDE2_NS"); VETHS+=("$OUT2_HOST")
ip link add "$OUT2_HOST" type veth peer name eth0 netns "$OUTSIDE2_NS"
ip addr add "$out2_net.1/24" dev "$OUT2_HOST" && ip link set "$OUT2_HOST" up
ip -n "$OUTSIDE2_NS" addr add "$out2_net.2/24" dev eth0 && ip -n "$OUTSIDE2_NS" link set eth0 up

# --- the agent: its own socket, bridge, subnet, state, pins, and the test's cgroup ---------------------
# The ingress device is the outside's veth; the node's own clients of published ports are the processes of
# $CG2 (the containers are below it too, in their own namespaces, where the socket hooks leave them alone).
mkdir "$CG2" "$NODE_CG"
export PATU_SOCKET=$TMP/patu.sock
jq --arg sock "$PATU_SOCKET" --arg bridge "$BRIDGE" --arg state "$TMP/state" --arg subnet "$SUBNET" \
   --arg bpffs "$BPFFS" --arg cg "$CG2" --arg id "$ID" --arg out "$OUT_HOST" --arg out2 "$OUT2_HOST" '
    ."io.patu.lifecycle" += {bridgeName: $bridge, socketPath: $sock, stateDir: $state}
  | ."io.patu.ipam" += {subnet: $subnet, gateway: "", stateDir: $state}
  | ."io.patu.datapath.sockmap" += {bpffsDir: $bpffs, cgroupPath: $cg}
  | ."io.patu.egress" += {table: ("patu_pub_" + $id)}
  | ."io.patu.datapath.xdp" += {bpffsDir: $bpffs, nodeCgroup: $cg, ingressDevices: [$out], publishDevices: [$out2]}
  | ."io.patu.policy" += {bpffsDir: $bpffs, policyDir: ($state + "/policy")}
  | ."io.patu.metrics" += {port: 0}' \
   "$TMP/patu/conf/patu.json" >"$TMP/agent.json"
start_agent
log "agent pid $AGENT_PID: socket $PATU_SOCKET, bridge $BRIDGE, subnet $SUBNET, pins $BPFFS, socket hooks and sockops on $CG2, ingress device $OUT_HOST"

# The xdp feature publishes the ports: wait until it has attached (an ADD with ports is refused without it).
for i in $(seq 300); do
    [ -e "$BPFFS/xdp/link_sock_connect4" ] && ip link show "$OUT_HOST" | grep -q 'prog/xdp' && break
    [ "$i" -lt 300 ] || fail "the xdp feature did not attach within 30 s (ingress device $OUT_HOST, socket hooks on $CG2)"
    sleep 0.1
done
ip link show "$OUT_HOST" | grep -q ' xdp ' || fail "$OUT_HOST has no native XDP program: $(ip link show "$OUT_HOST")"

# Patu alone: it declares the portMappings capability, and no portmap is chained.
"$PATU" install-cni --bin-dir "$TMP/cni-bin" --conf-dir "$TMP/cni-conf" --name "$NET" >/dev/null
jq -e '.plugins == [{"type": "patu", "capabilities": {"portMappings": true}}]' "$TMP/cni-conf/10-$NET.conflist" >/dev/null \
    || fail "install-cni wrote no conflist with Patu alone serving portMappings: $(cat "$TMP/cni-conf/10-$NET.conflist")"

private_podman


# --- helpers ---------------------------------------------------------------------------------------------
# port_counters summed over CPUs: ingress_translated pod_translated replies_translated sockets_translated
port_counters() {
    bpftool -j map dump pinned "$BPFFS/xdp/port_counters" | jq -r '
        [.[0].formatted.values[].value] | [(map(.ingress_translated) | add), (map(.pod_translated) | add),
         (map(.replies_translated) | add), (map(.sockets_translated) | add)] | @tsv'
}
# port_counters' fast path from the ingress devices, summed over CPUs: ingress_delivered ingress_isolated
fast_path() {
    bpftool -j map dump pinned "$BPFFS/xdp/port_counters" | jq -r '
        [.[0].formatted.values[].value] | [(map(.ingress_delivered) | add), (map(.ingress_isolated) | add)] | @tsv'
}
tx_packets() { cat "/sys/class/net/$1/statistics/tx_packets"; }
# The outside's TCP packets that leave through the bridge, i.e. out of the container's host veth, from
# bridged_start to bridged_stop (which sets BRIDGED to their number). Not the veth's tx counter: for the first seconds
# of a bridge port the bridge also sends IPv6 MLD and ND and IGMP out of it, which the counter would count.
bridged_start() { # bridged_start DEVICE SOURCE
    : >"$TMP/bridged.err"
    tcpdump -i "$1" -Q out -nn -l "ip and tcp and src host $2" >"$TMP/bridged.txt" 2>"$TMP/bridged.err" &
    BRIDGED_PID=$!
    for _ in $(seq 50); do grep -q "listening on" "$TMP/bridged.err" && return; sleep 0.1; done
    fail "tcpdump on $1 did not start: $(cat "$TMP/bridged.err")"
}
bridged_stop() {
    kill "$BRIDGED_PID"; wait "$BRIDGED_PID" 2>/dev/null || true; BRIDGED_PID=""
    BRIDGED=$(grep -c ' IP ' "$TMP/bridged.txt" || true)   # a packet a line (tcpdump adds an empty one at exit)
}
quiet() { # quiet DEVICE: waits (up to 5 s) until DEVICE has transmitted nothing for 0.5 s (connections closed)
    local before after i
    for i in $(seq 10); do
        before=$(tx_packets "$1"); sleep 0.5; after=$(tx_packets "$1")
        [ "$before" = "$after" ] && return
    done
}
# port_map entries publishing host port $1
port_entries() {
    bpftool -j map dump pinned "$BPFFS/xdp/port_map" | jq --argjson p "$1" '[.[] | select(.formatted.key.port == $p)] | length'
}
# read_greeting CMD...: the first line a TCP client run as CMD reads, retried for up to 5 s (the container's
# server is one 'nc -l' after another, so a connection can fall between two of them)
read_greeting() {
    local got="" i
    for i in $(seq 25); do
        got=$("$@" 2>/dev/null || true)
        [ -n "$got" ] && break
        sleep 0.2
    done
    echo "$got"
}
TCP_READ='exec 3<>"/dev/tcp/$0/$1" && head -n 1 <&3'   # bash -c "$TCP_READ" ADDRESS PORT
from_outside() { ip netns exec "$OUTSIDE_NS" timeout 3 bash -c "$TCP_READ" "$1" "$2"; }
from_outside2() { ip netns exec "$OUTSIDE2_NS" timeout 3 bash -c "$TCP_READ" "$1" "$2"; }
# From the node itself: a process of the node cgroup, which it joins before its socket exists.
from_node() { timeout 3 sh -c 'echo $$ >"$0/cgroup.procs" && exec bash -c "$1" "$2" "$3"' "$NODE_CG" "$TCP_READ" "$1" "$2"; }
from_pod() { # from_pod ADDRESS PORT: another container of the network, through its veth
    pm run --rm --network "$NET" --cgroup-parent "/$CG" "$IMAGE" sh -c "nc -w 3 $1 $2 </dev/null | head -n 1"
}

# --- a container publishing a port, with no portmap -----------------------------------------------------
ctr=$NET-srv
pm run -d --name "$ctr" --network "$NET" --cgroup-parent "/$CG" -p "$HOST_PORT:$PORT" "$IMAGE" \
    sh -c "while true; do echo hello-from-the-container | nc -l -p $PORT; done" >/dev/null \
    || fail "podman run -p $HOST_PORT:$PORT failed"
ip_c=$(ip_of "$ctr"); ns_c=$(netns_of "$ctr"); veth_c=$(host_veth_of "$ctr")
gw=$(pm inspect "$ctr" | jq -r --arg n "$NET" '.[0].NetworkSettings.Networks[$n].Gateway')
NETNS+=("$ns_c"); VETHS+=("$veth_c")
[[ "$ip_c" =~ ^[0-9.]+$ ]] || fail "the container got no address on $NET"
wait_listen "the container" "$ns_c"
entries=$(port_entries "$HOST_PORT")
[ "$entries" -ge 1 ] || fail "no port_map entry publishes $HOST_PORT: $(bpftool map dump pinned "$BPFFS/xdp/port_map")"

read -r in0 pod0 rep0 sock0 < <(port_counters)
g_out=$(read_greeting from_outside "$out_net.1" "$HOST_PORT")
read -r in1 pod1 rep1 sock1 < <(port_counters)
# Once the container's neighbour entry exists (the connection above resolved it through the stack), what the
# outside sends to the published port goes straight to the container: the fast path counts it, the bridge's
# port to the container (its host veth) transmits none of it.
quiet "$veth_c"
bridged_start "$veth_c" "$out_net.2"
read -r fast0 iso0 < <(fast_path)
g_fast=$(read_greeting from_outside "$out_net.1" "$HOST_PORT")
quiet "$veth_c"
read -r fast1 iso1 < <(fast_path)
bridged_stop
read -r in1 pod1 rep1 sock1 < <(port_counters)
g_out2=$(read_greeting from_outside2 "$out2_net.1" "$HOST_PORT")
read -r in1b pod1b rep1b sock1b < <(port_counters)
g_node_lo=$(read_greeting from_node 127.0.0.1 "$HOST_PORT")
g_node_gw=$(read_greeting from_node "$gw" "$HOST_PORT")
read -r in2 pod2 rep2 sock2 < <(port_counters)
g_pod=$(read_greeting from_pod "$gw" "$HOST_PORT")
read -r in3 pod3 rep3 sock3 < <(port_counters)
# The port and the container's address as words of their own: this run's own names (the egress table
# patu_pub_$ID) may contain the same digits, since both come from the shell's pid.
names="(^|[^[:alnum:]_.])($HOST_PORT|${ip_c//./\\.})([^[:alnum:]_.]|$)"
nat=$( (iptables-save -t nat; ip6tables-save -t nat) 2>/dev/null | grep -cE -- "$names" || true)
nft=$(nft list ruleset 2>/dev/null | grep -cE -- "$names" || true)

echo
echo "== published port without portmap: report"
printf '  %-34s %s\n' "container" "$ctr  $ip_c  host veth $veth_c"
printf '  %-34s %s\n' "published" "any node address:$HOST_PORT -> $ip_c:$PORT ($entries port_map entries)"
printf '  %-34s %s\n' "from outside ($out_net.2 -> .1)" "'$g_out'  (XDP translated $((in1 - in0)), replies back $((rep1 - rep0)))"
printf '  %-34s %s\n' "from outside, again" "'$g_fast'  (straight to the container $((fast1 - fast0)), through the bridge $BRIDGED)"
printf '  %-34s %s\n' "from outside 2 ($out2_net.2 -> .1)" "'$g_out2'  (tcx on publish device $OUT2_HOST translated $((in1b - in1)))"
printf '  %-34s %s\n' "from the node, 127.0.0.1 / $gw" "'$g_node_lo' / '$g_node_gw'  (sockets translated $((sock2 - sock1)))"
printf '  %-34s %s\n' "from another container, $gw" "'$g_pod'  (translated on its veth $((pod3 - pod2)), replies back $((rep3 - rep2)))"
printf '  %-34s %s\n' "iptables nat / nftables lines" "$nat / $nft"
echo

errors=()
[ "$g_out" = hello-from-the-container ] || errors+=("from outside: read '$g_out'")
[ "$g_out2" = hello-from-the-container ] || errors+=("from outside over the publish device: read '$g_out2'")
[ "$g_fast" = hello-from-the-container ] || errors+=("from outside, again: read '$g_fast'")
# A connection sends at least its SYN, an ACK with data or the FIN, and the last ACK to the container.
{ [ $((fast1 - fast0)) -ge 3 ] && [ "$BRIDGED" -le 1 ]; } \
    || errors+=("the outside's packets did not take the fast path: $((fast1 - fast0)) delivered straight, $BRIDGED through the bridge")
[ $((in1b - in1)) -ge 1 ] || errors+=("the second outside's connection was not translated on the publish device")
[ "$g_node_lo" = hello-from-the-container ] || errors+=("from the node to 127.0.0.1: read '$g_node_lo'")
[ "$g_node_gw" = hello-from-the-container ] || errors+=("from the node to $gw: read '$g_node_gw'")
[ "$g_pod" = hello-from-the-container ] || errors+=("from another container: read '$g_pod'")
{ [ $((in1 - in0)) -ge 1 ] && [ $((rep1 - rep0)) -ge 1 ]; } || errors+=("the outside's connection was not translated by XDP and back")
[ $((sock2 - sock1)) -ge 2 ] || errors+=("the node's connections were not translated by the socket hooks")
{ [ $((pod3 - pod2)) -ge 1 ] && [ $((rep3 - rep2)) -ge 1 ]; } || errors+=("the container's connection was not translated on its veth and back")
[ "$nat" = 0 ] || errors+=("iptables nat names the port or the container")
[ "$nft" = 0 ] || errors+=("nftables names the port or the container: $(nft list ruleset | grep -E -- "$names")")
if [ ${#errors[@]} -gt 0 ]; then
    printf 'published-ports: FAIL: %s\n' "${errors[@]}" >&2
    exit 1
fi
log "OK: the published port answered from outside, from the node and from another container, with nothing in iptables or nftables"
log "OK: a device without XDP in publishDevices reached the published port through tcx"
log "OK: the outside's packets went straight to the container (bpf_redirect_peer), not through the bridge"

# --- the feature stopped and started: the ports go with it and come back with the replayed pods -------------
shell() { "$TMP/patu/cni/patu" --shell "$1"; }
shell "patu:disable xdp" >/dev/null || fail "patu:disable xdp failed"
for i in $(seq 100); do [ ! -e "$BPFFS/xdp" ] && break; sleep 0.1; done
[ ! -e "$BPFFS/xdp" ] || fail "patu:disable xdp left $BPFFS/xdp"
g_off=$(from_outside "$out_net.1" "$HOST_PORT" 2>/dev/null || true)
shell "patu:enable xdp" >/dev/null || fail "patu:enable xdp failed"
for i in $(seq 100); do [ -e "$BPFFS/xdp/port_map" ] && [ "$(port_entries "$HOST_PORT")" -ge 1 ] && break; sleep 0.1; done
g_on=$(read_greeting from_outside "$out_net.1" "$HOST_PORT")
[ -z "$g_off" ] || fail "with the xdp feature stopped, the published port still answered '$g_off'"
[ "$g_on" = hello-from-the-container ] || fail "with the xdp feature started again, the outside read '$g_on'"
log "OK: stopping the xdp feature withdrew the published port, starting it again restored it for the running container"

# --- policy: denying the container's ingress denies its published port -----------------------------------
policy_dir="$TMP/state/policy"
mkdir -p "$policy_dir"
printf '%s\n' 'apiVersion: networking.k8s.io/v1' 'kind: NetworkPolicy' \
    'metadata: {name: deny-ingress, namespace: default}' 'spec: {podSelector: {}, policyTypes: [Ingress]}' \
    >"$policy_dir/.deny.yaml.tmp"
mv "$policy_dir/.deny.yaml.tmp" "$policy_dir/deny.yaml"
denied=0
for i in $(seq 50); do   # in force within 10 s (the engine applies a change within about 1 s)
    [ -z "$(from_outside "$out_net.1" "$HOST_PORT" 2>/dev/null || true)" ] && { denied=1; break; }
    sleep 0.2
done
read -r fast2 iso2 < <(fast_path)
g_out_denied=$(from_outside "$out_net.1" "$HOST_PORT" 2>/dev/null || true)
read -r fast3 iso3 < <(fast_path)
g_pod_denied=$(from_pod "$gw" "$HOST_PORT" 2>/dev/null || true)
rm -f "$policy_dir/deny.yaml"
g_out_again=$(read_greeting from_outside "$out_net.1" "$HOST_PORT")
[ "$denied" = 1 ] && [ -z "$g_out_denied" ] || fail "with ingress denied, the outside still read the container through its published port"
# The fast path would skip the veth's policy: it left the isolated container's packets to the stack.
{ [ $((iso3 - iso2)) -ge 1 ] && [ "$fast3" = "$fast2" ]; } \
    || fail "the fast path did not leave the isolated container's packets to the stack (isolated $((iso3 - iso2)), delivered $((fast3 - fast2)))"
[ -z "$g_pod_denied" ] || fail "with ingress denied, another container still read '$g_pod_denied' through the published port"
[ "$g_out_again" = hello-from-the-container ] || fail "with the policy removed, the outside read '$g_out_again'"
log "OK: a policy denying the container's ingress denied its published port (outside and other containers); removed, the port answered again"

# --- DEL and GC release the port ---------------------------------------------------------------------------
pm rm -f -t 0 "$ctr" >/dev/null || fail "podman rm failed"
for i in $(seq 50); do [ "$(port_entries "$HOST_PORT")" = 0 ] && break; sleep 0.1; done
[ "$(port_entries "$HOST_PORT")" = 0 ] || fail "podman rm (DEL) left port_map entries for $HOST_PORT"
g_gone=$(from_outside "$out_net.1" "$HOST_PORT" 2>/dev/null || true)
[ -z "$g_gone" ] || fail "after podman rm, the port still answered '$g_gone'"
log "OK: podman rm (CNI DEL) released the published port"

ctr=$NET-gc
GC_PORT=$((HOST_PORT + 1))
pm run -d --name "$ctr" --network "$NET" --cgroup-parent "/$CG" -p "$GC_PORT:$PORT" "$IMAGE" sleep 3600 >/dev/null \
    || fail "podman run -p $GC_PORT:$PORT failed"
NETNS+=("$(netns_of "$ctr")"); VETHS+=("$(host_veth_of "$ctr")")
[ "$(port_entries "$GC_PORT")" -ge 1 ] || fail "no port_map entry publishes $GC_PORT"
# A runtime that lost the container: GC listing no valid attachment (podman 4.3 sends no GC of its own).
gc=$(echo "{\"cniVersion\": \"1.1.0\", \"name\": \"$NET\", \"type\": \"patu\", \"cni.dev/valid-attachments\": []}" \
    | CNI_COMMAND=GC CNI_PATH="$TMP/cni-bin" "$TMP/cni-bin/patu") || fail "GC failed: $gc"
[ "$(port_entries "$GC_PORT")" = 0 ] || fail "GC left port_map entries for $GC_PORT"
pm rm -f -t 0 "$ctr" >/dev/null || fail "podman rm failed"
log "OK: a CNI GC released the published port of an attachment the runtime no longer lists"
