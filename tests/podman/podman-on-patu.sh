#!/usr/bin/env bash
# podman-on-patu.sh: podman containers on a Patu CNI network, chained with the reference portmap plugin
# as a podman network would be. Two containers talk TCP: the sk_msg redirect counters must carry the
# payload and their veths must not. A third publishes a port (podman run -p): a connection to it on the
# host reaches the container, and podman rm removes portmap's rules. A fourth reaches an "outside" namespace
# as the node (egress). Last, a policy file (v1 Pod objects naming the containers, and a NetworkPolicy) lets one
# container reach another and denies a third.
#
# Run as root on Debian 12 after the build (mvn -B -q install -DskipTests):
#     sudo tests/podman/podman-on-patu.sh
# Environment: PATU_DIST   the assembled agent (default: <repo>/distribution/target/patu)
#              PATU_SUBNET a free /24 for the test pods (default: the first free 10.78.N.0/24, N = 200..250)
#
# Everything is private to this run: podman reads its own containers.conf (CONTAINERS_CONF) and
# storage.conf (CONTAINERS_STORAGE_CONF) under a temporary directory, the agent has its own socket, bridge,
# subnet, state and bpffs directories, and the containers live under their own cgroup. All of it is
# removed on exit and checked to be gone. Exit status 0 only if the test passed and nothing was left.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
DIST=${PATU_DIST:-$REPO/distribution/target/patu}
IMAGE=localhost/patu-busybox:1
PORT=5000
HOST_PORT=$((18000 + $$ % 1000))
BLOCK=65536
BLOCKS=512                      # 32 MiB
PAYLOAD=$((BLOCK * BLOCKS))
PACKAGES=(podman runc containernetworking-plugins busybox-static jq bpftool iproute2 util-linux iptables nftables)

ID=$$
NET=patu-e2e-$ID                # podman network, CNI conflist name, container name prefix
BRIDGE=patue2e$ID               # at most 15 characters
CG=patu-podman-e2e-$ID          # cgroup (v2 under /sys/fs/cgroup/unified, and v1 where runc puts it)
CG2=/sys/fs/cgroup/unified/$CG
BPFFS=/sys/fs/bpf/patu-podman-e2e-$ID
STARTED=$(date +%s%N)

SCENARIO=podman-on-patu
OUTSIDE_NS=""                   # the "outside" the egress check connects to
OUTSIDE_SERVER=""

# portmap's DEL removes the container's own chain but keeps the chains all its containers share, and
# iptables-nft keeps the nat tables it created: whatever of that was not there before goes at the end.
# Other Patu agents' egress tables (inet patu_*: ITs, benchmarks) come and go with runs beside this one on a
# shared machine; only this run's own (patu_e2e_$ID) is compared.
nat_snapshot() {
    iptables-save -t nat 2>/dev/null | grep -v '^#'; ip6tables-save -t nat 2>/dev/null | grep -v '^#'
    nft list tables 2>/dev/null | awk -v own="table inet patu_e2e_$ID" '$0 == own || $0 !~ /^table inet patu_/'
}
remove_portmap_scaffolding() {
    local t c family
    for t in iptables ip6tables; do
        grep -q CNI-HOSTPORT-DNAT <<<"$NAT_BEFORE" && continue
        $t -t nat -S 2>/dev/null | grep -q CNI-HOSTPORT-DNAT || continue
        $t -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
        $t -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
        $t -t nat -D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ 2>/dev/null
        for c in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do
            $t -t nat -F "$c" 2>/dev/null; $t -t nat -X "$c" 2>/dev/null
        done
    done
    for family in ip ip6; do
        t=iptables; [ "$family" = ip6 ] && t=ip6tables
        grep -qx "table $family nat" <<<"$NAT_BEFORE" && continue
        nft list tables 2>/dev/null | grep -qx "table $family nat" || continue
        # Only an empty table: policies, and no rule or chain of anyone else.
        [ -z "$($t -t nat -S 2>/dev/null | grep -v '^-P ')" ] && nft delete table "$family" nat 2>/dev/null
    done
    return 0
}

scenario_teardown() {
    remove_portmap_scaffolding
    [ -n "$OUTSIDE_SERVER" ] && kill -- -"$OUTSIDE_SERVER" 2>/dev/null && wait "$OUTSIDE_SERVER" 2>/dev/null
    [ -n "$OUTSIDE_NS" ] && ip netns del "$OUTSIDE_NS" 2>/dev/null   # its veth goes with it
    return 0
}
# again: a late portmap DEL may have brought the nat table back
scenario_late_teardown() { remove_portmap_scaffolding; }

# shellcheck source=tests/podman/scaffold.sh
. "$REPO/tests/podman/scaffold.sh"

# --- the agent: its own socket, bridge, subnet, state, pins, and the test's cgroup ---------------------
# The containers talk with busybox nc, which reads 1 KiB at a time and falls behind its writer: with
# backpressure on, a third to a half of the bytes would rightly go through TCP. This scenario is about
# redirection between podman containers, so it turns backpressure off (redirectQueueBytes 0) and the
# small-write rule with it (smallWriteRun 0); both have their own tests (OnlyAccelerateIT).
mkdir "$CG2"
export PATU_SOCKET=$TMP/patu.sock
jq --arg sock "$PATU_SOCKET" --arg bridge "$BRIDGE" --arg state "$TMP/state" --arg subnet "$SUBNET" \
   --arg bpffs "$BPFFS" --arg cg "$CG2" --arg id "$ID" '
    ."io.patu.lifecycle" += {bridgeName: $bridge, socketPath: $sock, stateDir: $state}
  | ."io.patu.ipam" += {subnet: $subnet, gateway: "", stateDir: $state}
  | ."io.patu.datapath.sockmap" += {bpffsDir: $bpffs, cgroupPath: $cg, smallWriteRun: 0, redirectQueueBytes: 0}
  | ."io.patu.egress" += {table: ("patu_e2e_" + $id)}
  | ."io.patu.datapath.xdp" += {bpffsDir: $bpffs, nodeCgroup: $cg}
  | ."io.patu.policy" += {bpffsDir: $bpffs, policyDir: ($state + "/policy")}
  | ."io.patu.metrics" += {port: 0}' \
   "$TMP/patu/conf/patu.json" >"$TMP/agent.json"
start_agent
log "agent pid $AGENT_PID: socket $PATU_SOCKET, bridge $BRIDGE, subnet $SUBNET, pins $BPFFS, sockops on $CG2"

# Patu first, then portmap, which podman hands the published ports (capability portMappings on portmap only).
"$PATU" install-cni --bin-dir "$TMP/cni-bin" --conf-dir "$TMP/cni-conf" --name "$NET" --portmap >/dev/null

private_podman

# --- container A: TCP server that counts what it receives ----------------------------------------------
ctr_a=$NET-a
ctr_b=$NET-b
run_opts=(--network "$NET" --cgroup-parent "/$CG")
# 'sleep |' keeps nc's stdin open: busybox nc stops at EOF on stdin. It ends when the client closes.
pm run -d --name "$ctr_a" "${run_opts[@]}" "$IMAGE" \
    sh -c "sleep 3600 | nc -l -p $PORT | wc -c | sed 's/^ */received=/'" >/dev/null \
    || fail "podman run of container A failed"
veth_bytes() { echo $(( $(cat "/sys/class/net/$1/statistics/rx_bytes") + $(cat "/sys/class/net/$1/statistics/tx_bytes") )); }
ip_a=$(ip_of "$ctr_a"); ns_a=$(netns_of "$ctr_a"); veth_a=$(host_veth_of "$ctr_a")
NETNS+=("$ns_a"); VETHS+=("$veth_a")
[[ "$ip_a" =~ ^[0-9.]+$ ]] || fail "container A got no address on $NET"
wait_listen "container A" "$ns_a"

# --- MTUs (docs/mtu.md): the container, its veth and the bridge at the agent's node-local MTU (the shipped
# 65535), the container's default route at the MTU of the device of the host's default route.
want_mtu=$(jq '."io.patu.lifecycle".mtu' "$TMP/agent.json")
uplink_dev=$(ip -4 route show default | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1)
uplink_mtu=$( [ -n "$uplink_dev" ] && cat "/sys/class/net/$uplink_dev/mtu" || echo 1500)
mtu_ctr=$(pm exec "$ctr_a" cat /sys/class/net/eth0/mtu)
mtu_veth=$(cat "/sys/class/net/$veth_a/mtu"); mtu_bridge=$(cat "/sys/class/net/$BRIDGE/mtu")
route_a=$(nsenter --net="$ns_a" ip -4 route show default)
log "MTU: container eth0 $mtu_ctr, host veth $mtu_veth, bridge $mtu_bridge; container default route: $route_a (uplink $uplink_dev $uplink_mtu)"
[ "$mtu_ctr" = "$want_mtu" ] && [ "$mtu_veth" = "$want_mtu" ] && [ "$mtu_bridge" = "$want_mtu" ] \
    || fail "container, veth and bridge MTU $mtu_ctr/$mtu_veth/$mtu_bridge, the agent's mtu is $want_mtu"
if [ "$uplink_mtu" -lt "$want_mtu" ]; then
    [[ "$route_a" == *" mtu $uplink_mtu"* ]] || fail "the container's default route lacks mtu $uplink_mtu: $route_a"
fi

# --- counters ------------------------------------------------------------------------------------------
node_redirected() {
    bpftool -j map dump pinned "$BPFFS/sockmap/sockmap_stats" | jq '[.. | objects | .bytes_redirected? // empty] | add // 0'
}
pod_redirected() { # bytes a pod sent through a redirect (pod_stats, keyed by ::ffff:a.b.c.d)
    bpftool -j map dump pinned "$BPFFS/sockmap/pod_stats" | jq --arg ip "$1" '
        ($ip | split(".") | map(tonumber)) as $a
        | [.[] | select(.formatted.key.addr[12:16] == $a) | .formatted.values[].value.bytes_redirected] | add // 0'
}
redirected_before=$(node_redirected)

# --- container B: client; stays up after sending so its pod_stats entry can be read ---------------------
pm run -d --name "$ctr_b" "${run_opts[@]}" "$IMAGE" \
    sh -c "sleep 0.5; dd if=/dev/zero bs=$BLOCK count=$BLOCKS 2>/dev/null | nc $ip_a $PORT; echo nc_exit=\$?; sleep 3600" >/dev/null \
    || fail "podman run of container B failed"
ip_b=$(ip_of "$ctr_b"); ns_b=$(netns_of "$ctr_b"); veth_b=$(host_veth_of "$ctr_b")
NETNS+=("$ns_b"); VETHS+=("$veth_b")
veth_a0=$(veth_bytes "$veth_a"); veth_b0=$(veth_bytes "$veth_b")   # before B sends (it waits 0.5 s)

received=""; nc_exit=""
for i in $(seq 600); do
    received=$(pm logs "$ctr_a" 2>/dev/null | sed -n 's/^received=//p')
    nc_exit=$(pm logs "$ctr_b" 2>/dev/null | sed -n 's/^nc_exit=//p')
    [ -n "$received" ] && [ -n "$nc_exit" ] && break
    [ "$i" -lt 600 ] || fail "no transfer within 60 s (server: '$received', client nc exit: '$nc_exit')"
    sleep 0.1
done
redirected=$(( $(node_redirected) - redirected_before ))
redirected_b=$(pod_redirected "$ip_b")
veth_a1=$(( $(veth_bytes "$veth_a") - veth_a0 )); veth_b1=$(( $(veth_bytes "$veth_b") - veth_b0 ))

# Where runc put the container processes (the 0:: line is the cgroup v2 one, where sockops looks).
cg_a=$(sed -n 's/^0:://p' "/proc/$(pm inspect -f '{{.State.Pid}}' "$ctr_a")/cgroup")
cg_b=$(sed -n 's/^0:://p' "/proc/$(pm inspect -f '{{.State.Pid}}' "$ctr_b")/cgroup")

echo
echo "== podman on Patu: report"
printf '  %-34s %s\n' "container A (server)" "$ctr_a  $ip_a  host veth $veth_a  cgroup2 $cg_a"
printf '  %-34s %s\n' "container B (client)" "$ctr_b  $ip_b  host veth $veth_b  cgroup2 $cg_b"
printf '  %-34s %s\n' "bytes sent B -> A" "$PAYLOAD"
printf '  %-34s %s\n' "bytes received by A" "${received:-?}  (client nc exit $nc_exit)"
printf '  %-34s %s\n' "bytes_redirected (sockmap_stats)" "$redirected"
printf '  %-34s %s\n' "bytes_redirected of B (pod_stats)" "$redirected_b"
printf '  %-34s %s\n' "veth bytes A / B (rx+tx)" "$veth_a1 / $veth_b1"
echo

errors=()
[ "$nc_exit" = 0 ] || errors+=("client nc exited with $nc_exit")
[ "$received" = "$PAYLOAD" ] || errors+=("A received $received bytes, B sent $PAYLOAD")
# Backpressure is off here (see the agent's configuration above), so all of it is redirected but for a
# first write that can race the peer socket's insertion; each veth carries what TCP did once.
via_tcp=$(( PAYLOAD > redirected ? PAYLOAD - redirected : 0 ))
[ "$redirected" -ge $((PAYLOAD / 100 * 99)) ] || errors+=("bytes_redirected grew by $redirected < 99 % of $PAYLOAD")
[ "$redirected_b" -ge $((PAYLOAD / 100 * 99)) ] || errors+=("pod_stats of B shows $redirected_b < 99 % of $PAYLOAD")
for v in "$veth_a1" "$veth_b1"; do
    [ "$v" -lt $((via_tcp * 12 / 10 + PAYLOAD / 100)) ] || errors+=("a veth carried $v bytes (TCP carried $via_tcp)")
done
case "$cg_a" in "/$CG/"*) ;; *) errors+=("container A is in cgroup2 '$cg_a', not below /$CG");; esac
case "$cg_b" in "/$CG/"*) ;; *) errors+=("container B is in cgroup2 '$cg_b', not below /$CG");; esac
if [ ${#errors[@]} -gt 0 ]; then
    printf 'podman-on-patu: FAIL: %s\n' "${errors[@]}" >&2
    exit 1
fi
log "OK: the payload went through sk_msg socket redirection, not through the veths"

# --- a container publishing a port --------------------------------------------------------------------
ctr=$NET-web
# busybox nc serves one connection per start; the loop keeps the port served.
pm run -d --name "$ctr" --network "$NET" --cgroup-parent "/$CG" -p "$HOST_PORT:$PORT" "$IMAGE" \
    sh -c "while true; do echo hello-from-the-container | nc -l -p $PORT; done" >/dev/null \
    || fail "podman run -p $HOST_PORT:$PORT failed"
ip_c=$(ip_of "$ctr"); ns_c=$(netns_of "$ctr"); veth_c=$(host_veth_of "$ctr")
gw=$(pm inspect "$ctr" | jq -r --arg n "$NET" '.[0].NetworkSettings.Networks[$n].Gateway')
NETNS+=("$ns_c"); VETHS+=("$veth_c")
[[ "$ip_c" =~ ^[0-9.]+$ ]] || fail "the container got no address on $NET"
wait_listen "the container" "$ns_c"
rules=$(iptables-save -t nat | grep -c -- "--to-destination $ip_c:$PORT" || true)
[ "$rules" -ge 1 ] || fail "portmap made no DNAT rule to $ip_c:$PORT"

# A host process connects to the published port on the host's address on the Patu bridge.
greeting=""
for i in $(seq 20); do
    greeting=$(timeout 5 bash -c "exec 3<>/dev/tcp/$gw/$HOST_PORT && head -n 1 <&3" 2>/dev/null || true)
    [ -n "$greeting" ] && break
    sleep 0.2
done

pm rm -f -t 0 "$ctr" >/dev/null || fail "podman rm failed"
left=$(iptables-save -t nat | grep -c -- "$ip_c" || true)

echo
echo "== a published port: report"
printf '  %-30s %s\n' "container" "$ctr  $ip_c  host veth $veth_c"
printf '  %-30s %s\n' "published" "$gw:$HOST_PORT -> $ip_c:$PORT (portmap DNAT rules: $rules)"
printf '  %-30s %s\n' "host read" "${greeting:-nothing}"
printf '  %-30s %s\n' "nat rules naming it after rm" "$left"
echo

[ "$greeting" = hello-from-the-container ] || fail "a connection to $gw:$HOST_PORT did not reach the container (read '$greeting')"
[ "$left" = 0 ] || fail "portmap's rules for $ip_c survived podman rm"
log "OK: the published port reached the container through Patu and portmap, and podman rm removed the rules"

# --- egress: a container reaches an address beyond the node, as the node ----------------------------------
# An "outside" namespace joined to the host by one veth, with an address of the 198.18.0.0/15 benchmark
# range and no route back to the pods: a connection from a container is answered only if the agent's
# egress feature masqueraded it to the node's address on that veth.
OUTSIDE_NS=patu-e2e-out-$ID
out_host=pe2h$ID
out_net=""
for n in $(seq 100 199); do subnet_free "198.18.$n.0/24" && { out_net=198.18.$n; break; }; done
[ -n "$out_net" ] || fail "no free 198.18.N.0/24 (N = 100..199) for the outside namespace"
ip netns add "$OUTSIDE_NS" || fail "ip netns add $OUTSIDE_NS failed"
NETNS+=("/run/netns/$OUTSIDE_NS"); VETHS+=("$out_host")
ip link add "$out_host" type veth peer name eth0 netns "$OUTSIDE_NS"
ip addr add "$out_net.1/24" dev "$out_host" && ip link set "$out_host" up
ip -n "$OUTSIDE_NS" addr add "$out_net.2/24" dev eth0 && ip -n "$OUTSIDE_NS" link set eth0 up && ip -n "$OUTSIDE_NS" link set lo up
# 'sleep |' keeps the server's stdin open (busybox nc ends the connection at EOF on stdin); its own session,
# so that clean-up ends both.
ip netns exec "$OUTSIDE_NS" setsid sh -c "sleep 3600 | busybox nc -l -p $PORT >/dev/null" </dev/null &
OUTSIDE_SERVER=$!
wait_listen "the outside server" "/run/netns/$OUTSIDE_NS"
ctr=$NET-out
pm run -d --name "$ctr" --network "$NET" --cgroup-parent "/$CG" "$IMAGE" \
    sh -c "sleep 3600 | nc $out_net.2 $PORT" >/dev/null || fail "podman run of the egress container failed"
ip_o=$(ip_of "$ctr"); ns_o=$(netns_of "$ctr"); veth_o=$(host_veth_of "$ctr")
NETNS+=("$ns_o"); VETHS+=("$veth_o")
peer=""
for i in $(seq 100); do
    peer=$(ip netns exec "$OUTSIDE_NS" ss -Htn state established "sport = :$PORT" | awk '{print $4}' | sed 's/:[0-9]*$//; s/^\[::ffff://; s/\]$//')
    [ -n "$peer" ] && break
    sleep 0.1
done
table=$(jq -r '."io.patu.egress".table' "$TMP/agent.json")
pm rm -f -t 0 "$ctr" >/dev/null || fail "podman rm failed"

echo
echo "== egress: report"
printf '  %-30s %s
' "container" "$ctr  $ip_o  host veth $veth_o"
printf '  %-30s %s
' "outside server" "$out_net.2:$PORT in netns $OUTSIDE_NS (host end $out_host, $out_net.1)"
printf '  %-30s %s
' "source the server saw" "${peer:-no connection}"
printf '  %-30s %s
' "nftables table" "inet $table"
echo

[ "$peer" = "$out_net.1" ] || fail "the outside saw '${peer:-no connection}', not the node's address $out_net.1"
log "OK: a container reached the outside, masqueraded to the node's address"

# --- policy: a policy file denies one container and allows another -----------------------------------------
# podman 4.3 passes a container's name to CNI (K8S_POD_NAME) and nothing else: not its --labels. So the
# containers are described by v1 Pod objects in the agent's policy directory, as README "Network policy"
# tells podman users to do. The denied container carries --label app=web, the label the policy allows: it
# must not matter, the Pod object says app=other.
POLICY_DIR=$(jq -r '."io.patu.policy".policyDir' "$TMP/agent.json")
ctr_db=$NET-pdb; ctr_web=$NET-pweb; ctr_other=$NET-pother
mkdir -p "$POLICY_DIR"
cat >"$POLICY_DIR/.podman.yaml.new" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $ctr_db, namespace: default, labels: {app: db}}
---
apiVersion: v1
kind: Pod
metadata: {name: $ctr_web, namespace: default, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: $ctr_other, namespace: default, labels: {app: other}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: default}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: $PORT}]}]
EOF
mv "$POLICY_DIR/.podman.yaml.new" "$POLICY_DIR/podman.yaml"   # in one step: hidden files are not read
pm run -d --name "$ctr_db" "${run_opts[@]}" "$IMAGE" \
    sh -c "while true; do echo hello-from-db | nc -l -p $PORT; done" >/dev/null || fail "podman run of $ctr_db failed"
pm run -d --name "$ctr_web" "${run_opts[@]}" "$IMAGE" sleep 3600 >/dev/null || fail "podman run of $ctr_web failed"
pm run -d --name "$ctr_other" --label app=web "${run_opts[@]}" "$IMAGE" sleep 3600 >/dev/null \
    || fail "podman run of $ctr_other failed"
for c in "$ctr_db" "$ctr_web" "$ctr_other"; do NETNS+=("$(netns_of "$c")"); VETHS+=("$(host_veth_of "$c")"); done
ip_db=$(ip_of "$ctr_db")
wait_listen "$ctr_db" "$(netns_of "$ctr_db")"
policies=""
for i in $(seq 100); do
    policies=$("$PATU" shell patu:policies 2>&1 || true)
    grep -q "db-from-web .*default/$ctr_db" <<<"$policies" && break
    [ "$i" -lt 100 ] || fail "the policy does not select $ctr_db within 10 s:
$policies"
    sleep 0.1
done
# The client reads the greeting; 'sleep 1 |' keeps its stdin open meanwhile (busybox nc stops at EOF on stdin).
# A connection the policy denies is dropped: nc's connect times out (-w 3).
connect_from() { timeout 20 podman exec "$1" sh -c "sleep 1 | nc -w 3 $ip_db $PORT" 2>&1 || true; }
denied_before=$("$PATU" shell "patu:policystats default/$ctr_db" | awk 'NR == 2 { print $5 }')
reply_web=$(connect_from "$ctr_web")
reply_other=$(connect_from "$ctr_other")
denied_after=$("$PATU" shell "patu:policystats default/$ctr_db" | awk 'NR == 2 { print $5 }')
pods=$("$PATU" shell patu:pods)
verdict_web=$("$PATU" shell "patu:verdict default/$ctr_web default/$ctr_db $PORT" | head -n 1)
verdict_other=$("$PATU" shell "patu:verdict default/$ctr_other default/$ctr_db $PORT" | head -n 1)

echo
echo "== policy: report"
printf '  %-30s %s\n' "policy file" "$POLICY_DIR/podman.yaml (Pod objects for the 3 containers, db-from-web)"
printf '  %-30s %s\n' "$ctr_web (app=web)" "read '${reply_web//$'\n'/ }'; $verdict_web"
printf '  %-30s %s\n' "$ctr_other (app=other)" "read '${reply_other//$'\n'/ }'; $verdict_other"
printf '  %-30s %s\n' "INGRESS_DENIED of $ctr_db" "$denied_before -> $denied_after (patu:policystats)"
echo "$pods" | grep -- "$NET-p" | sed 's/^/  patu:pods  /'
echo

for c in "$ctr_db" "$ctr_web" "$ctr_other"; do
    grep -q "default/$c" <<<"$pods" || fail "patu:pods does not show default/$c: podman's K8S_POD_NAME did not arrive"
done
[ "$reply_web" = hello-from-db ] || fail "$ctr_web (allowed) read '$reply_web', not the greeting"
[[ "$reply_other" != *hello-from-db* ]] || fail "$ctr_other (denied) reached $ctr_db: '$reply_other'"
[[ "$verdict_web" == *": allow" ]] && [[ "$verdict_other" == *": deny" ]] \
    || fail "patu:verdict disagrees: '$verdict_web' / '$verdict_other'"
[ "${denied_after:-0}" -gt "${denied_before:-0}" ] || fail "$ctr_db's INGRESS_DENIED did not grow ($denied_before -> $denied_after)"
pm rm -f -t 0 "$ctr_db" "$ctr_web" "$ctr_other" >/dev/null || fail "podman rm failed"
log "OK: a policy file allowed one container and denied another (labels from Pod objects, not podman --label)"
