# scaffold.sh: what the podman scenarios in this directory share, sourced by each of them. A scenario sets
# SCENARIO (its name in messages), ID, NET, BRIDGE, CG, CG2, BPFFS, DIST, REPO, PACKAGES and STARTED, and
# defines nat_snapshot (the NAT state it must leave as it found it), scenario_teardown (run after the
# containers are gone, before the agent stops) and scenario_late_teardown (after the temporary directory is
# gone). This file then installs what is missing, checks the build, snapshots the global podman/CNI paths and
# the NAT state, sets the clean-up trap (which verifies that nothing this run created is left), mounts bpffs
# and cgroup v2 where needed, makes the run's temporary directory (TMP, with a private copy of the agent:
# PATU) and picks a free /24 (SUBNET, or PATU_SUBNET). start_agent and private_podman are for the scenario to
# call once it has written $TMP/agent.json and installed its CNI configuration.

log() { echo "$SCENARIO: $*"; }
fail() { echo "$SCENARIO: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (it creates a bridge, cgroups and loads eBPF programs)"

# --- Debian packages: install only what is missing -----------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- the assembled agent -------------------------------------------------------------------------------
if [ ! -x "$DIST/bin/patu" ] || [ ! -x "$DIST/cni/patu" ]; then
    [ -n "${PATU_DIST:-}" ] && fail "PATU_DIST=$PATU_DIST holds no assembled agent (bin/patu, cni/patu)"
    log "no build found, building: mvn -B -q install -DskipTests"
    [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ] && export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
    (cd "$REPO" && mvn -B -q install -DskipTests) || fail "build failed"
fi

# --- state for clean-up --------------------------------------------------------------------------------
TMP=""
AGENT_PID=""
MOUNTED_CG2=0
MOUNTED_BPF=0
VAR_LIB_CNI_EXISTED=0; [ -e /var/lib/cni ] && VAR_LIB_CNI_EXISTED=1
declare -a VETHS=() NETNS=()
# Global places podman or CNI could write to; compared before and after.
global_snapshot() {
    for d in /etc/cni/net.d /etc/containers /var/lib/containers /var/lib/containers/cache /run/containers \
             /run/libpod; do
        if [ -e "$d" ]; then echo "$d: $(ls -A "$d" | tr '\n' ' ')"; else echo "$d: absent"; fi
    done
    local bic=/var/lib/containers/cache/blob-info-cache-v1.boltdb
    [ -e "$bic" ] && echo "$bic: $(stat -c %Y.%s "$bic")"
    return 0
}
GLOBAL_BEFORE=$(global_snapshot)
NAT_BEFORE=$(nat_snapshot)
# Processes of this run's podman other than the agent: conmon and its exit commands carry the private paths.
podman_helpers_running() {
    pgrep -f -- "$TMP/" | grep -vx -- "${AGENT_PID:-none}" | grep -q .
}

# podman on the private configuration only, never the machine's.
pm() { CONTAINERS_CONF=$TMP/containers.conf CONTAINERS_STORAGE_CONF=$TMP/storage.conf podman "$@"; }

cleanup() {
    local rc=$? leftovers=() d i
    set +e
    trap - EXIT INT TERM
    log "clean-up"
    if [ -n "$TMP" ] && [ -e "$TMP/containers.conf" ] && [ -e "$TMP/storage.conf" ]; then
        pm rm -f -t 0 -a >/dev/null 2>&1
        [ -n "$(pm ps -a -q 2>/dev/null)" ] && leftovers+=("podman containers: $(pm ps -a --format '{{.Names}}')")
        # conmon runs each container's CNI DEL (podman container cleanup) after the container is gone, on
        # its own (a chained portmap's DEL through iptables-nft can bring the nat table back). Wait for them.
        for i in $(seq 100); do podman_helpers_running || break; sleep 0.1; done
    fi
    scenario_teardown
    if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
        kill -TERM "$AGENT_PID"
        for i in $(seq 200); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$AGENT_PID" 2>/dev/null && { leftovers+=("agent $AGENT_PID ignored SIGTERM, killed"); kill -KILL "$AGENT_PID"; }
        wait "$AGENT_PID" 2>/dev/null
    fi
    [ -n "$TMP" ] && [ -e "$TMP/agent.json" ] && "$TMP/patu/bin/patu" purge --config "$TMP/agent.json" >/dev/null
    # runc made $CG in every v1 hierarchy and in the v2 one (libpod-<id> below it; conmon's in v1 only).
    for d in /sys/fs/cgroup/*/"$CG"; do
        [ -d "$d" ] || continue
        for i in $(seq 50); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; [ -d "$d" ] || break; sleep 0.1; done
    done
    # libcni caches each result under /var/lib/cni/results and drops it on DEL.
    rm -f /var/lib/cni/results/"$NET"-* 2>/dev/null
    if [ "$VAR_LIB_CNI_EXISTED" = 0 ] && [ -d /var/lib/cni ]; then
        rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
    fi
    if [ "$rc" != 0 ] && [ -n "$TMP" ] && [ -s "$TMP/agent.log" ]; then
        cp "$TMP/agent.log" "/tmp/$SCENARIO-$ID-agent.log" && log "agent log kept: /tmp/$SCENARIO-$ID-agent.log"
    fi
    [ -n "$TMP" ] && rm -rf -- "$TMP"
    scenario_late_teardown
    [ "$MOUNTED_CG2" = 1 ] && umount /sys/fs/cgroup/unified
    [ "$MOUNTED_BPF" = 1 ] && umount /sys/fs/bpf

    # Verify nothing this run created is left.
    [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null && leftovers+=("agent process $AGENT_PID")
    ip link show "$BRIDGE" >/dev/null 2>&1 && leftovers+=("bridge $BRIDGE")
    for i in "${VETHS[@]}"; do ip link show "$i" >/dev/null 2>&1 && leftovers+=("veth $i"); done
    for i in "${NETNS[@]}"; do [ -e "$i" ] && leftovers+=("netns $i"); done
    [ -e "$BPFFS" ] && leftovers+=("bpffs $BPFFS")
    for d in /sys/fs/cgroup/*/"$CG"; do [ -e "$d" ] && leftovers+=("cgroup $d"); done
    ls /var/lib/cni/results/"$NET"-* >/dev/null 2>&1 && leftovers+=("CNI cache /var/lib/cni/results/$NET-*")
    [ -n "$TMP" ] && [ -e "$TMP" ] && leftovers+=("temp dir $TMP")
    [ "$(nat_snapshot)" = "$NAT_BEFORE" ] || leftovers+=("nat rules or tables changed: $(diff <(echo "$NAT_BEFORE") <(nat_snapshot) | grep '^[<>]' | tr '\n' ' ')")
    local after; after=$(global_snapshot)
    [ "$after" = "$GLOBAL_BEFORE" ] || leftovers+=("global podman/CNI paths changed: $(diff <(echo "$GLOBAL_BEFORE") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')")
    if [ ${#leftovers[@]} -gt 0 ]; then
        printf '%s: FAIL: left behind: %s\n' "$SCENARIO" "${leftovers[@]}" >&2
        rc=1
    else
        log "nothing left behind (containers, network config, agent, bridge, veths, netns, bpffs pins, cgroups, nat rules, temp dir)"
    fi
    local ms=$(( ($(date +%s%N) - STARTED) / 1000000 ))
    log "took $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s, exit status $rc"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- kernel mounts the agent and the test need ---------------------------------------------------------
if ! mountpoint -q /sys/fs/bpf; then mount -t bpf bpf /sys/fs/bpf; MOUNTED_BPF=1; fi
if ! mountpoint -q /sys/fs/cgroup/unified; then
    if grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts; then
        fail "cgroup v2 is mounted at /sys/fs/cgroup (unified mode); this script expects the hybrid layout of these machines"
    fi
    mkdir -p /sys/fs/cgroup/unified 2>/dev/null || true
    mount -t cgroup2 none /sys/fs/cgroup/unified; MOUNTED_CG2=1
fi
[ "$(stat -f -c %T /sys/fs/cgroup/unified)" = cgroup2fs ] || fail "/sys/fs/cgroup/unified is not cgroup v2"

TMP=$(mktemp -d "/tmp/$SCENARIO.XXXXXX")
# A private copy of the agent: a rebuild of distribution/target during the run cannot pull it away.
cp -a "$DIST" "$TMP/patu"
PATU="$TMP/patu/bin/patu"
mkdir -p "$TMP"/{cni-bin,cni-conf,storage,run,podman-tmp,state,rootfs}

# --- a free /24 ----------------------------------------------------------------------------------------
subnet_free() { # nothing routed inside it or covering it, other than the default route
    [ -z "$(ip -4 route show root "$1"; ip -4 route show match "$1" | grep -v '^default')" ]
}
if [ -n "${PATU_SUBNET:-}" ]; then
    SUBNET=$PATU_SUBNET
    subnet_free "$SUBNET" || fail "PATU_SUBNET=$SUBNET overlaps a route: $(ip -4 route show match "$SUBNET" | grep -v '^default')"
else
    SUBNET=""
    for n in $(seq 200 250); do subnet_free "10.78.$n.0/24" && { SUBNET=10.78.$n.0/24; break; }; done
    [ -n "$SUBNET" ] || fail "no free 10.78.N.0/24 (N = 200..250); set PATU_SUBNET"
fi

# --- the agent ------------------------------------------------------------------------------------------
# start_agent: runs the private copy on $TMP/agent.json and waits until its CNI socket answers.
start_agent() {
    # 'patu run' in the background rather than 'patu start': start/stop keep one pid file, /run/patu/agent.pid,
    # for every agent, so a second agent would take over (and 'stop' would stop) whatever owns it.
    # Working directory $TMP: whatever the agent might write relative to it goes away with the temp dir.
    (cd "$TMP" && exec setsid "$PATU" run --config "$TMP/agent.json" </dev/null >"$TMP/agent.log" 2>&1) &
    AGENT_PID=$!
    local i
    agent_answers() { echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION "$TMP/patu/cni/patu" >/dev/null 2>&1; }
    for i in $(seq 300); do
        agent_answers && break
        kill -0 "$AGENT_PID" 2>/dev/null || { grep -v "^[[:space:]]*at " "$TMP/agent.log" | tail -n 25 >&2; fail "the agent exited during start-up"; }
        [ "$i" -lt 300 ] || { grep -v "^[[:space:]]*at " "$TMP/agent.log" | tail -n 25 >&2; fail "the agent did not answer on $PATU_SOCKET within 30 s"; }
        sleep 0.1
    done
}

# --- private podman configuration ----------------------------------------------------------------------
# private_podman: podman's containers.conf and storage.conf under $TMP (exported for the rest of the run),
# the network check, and the busybox image.
private_podman() {
    # PATU_SOCKET reaches the plugin two ways: podman passes its own environment to CNI plugins (ADD, and DEL
    # by 'podman rm'), and conmon_env_vars hands it to conmon, whose exit command ('podman container cleanup')
    # runs the DEL when a container stops by itself.
    cat >"$TMP/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
log_driver = "k8s-file"

[network]
network_backend = "cni"
cni_plugin_dirs = ["$TMP/cni-bin", "/usr/lib/cni"]
network_config_dir = "$TMP/cni-conf"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$TMP/podman-tmp"
conmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PATU_SOCKET=$PATU_SOCKET"]
EOF
    cat >"$TMP/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$TMP/storage"
runroot = "$TMP/run"
EOF
    export CONTAINERS_CONF=$TMP/containers.conf CONTAINERS_STORAGE_CONF=$TMP/storage.conf

    pm network exists "$NET" || fail "podman does not see network $NET (conflist in $TMP/cni-conf)"

    # The image: busybox-static in an empty root.
    if ! pm image exists "$IMAGE"; then
        mkdir -p "$TMP/rootfs"/{bin,etc,proc,sys,dev,tmp,run}
        cp /bin/busybox "$TMP/rootfs/bin/busybox"
        for applet in sh nc dd wc sed cat sleep ip ls; do ln -s busybox "$TMP/rootfs/bin/$applet"; done
        tar -C "$TMP/rootfs" -cf "$TMP/rootfs.tar" .
        # podman 4.3's import writes its blob-info cache to /var/lib/containers/cache whatever the storage
        # root; a tmpfs over that place, in a mount namespace of its own, keeps the machine untouched.
        local mp=/var/lib/containers/cache
        while [ ! -d "$mp" ]; do mp=$(dirname "$mp"); done
        unshare --mount --propagation private -- sh -c 'mount -t tmpfs -o size=16m,mode=0700 patu-e2e "$1" && shift && exec "$@"' \
            _ "$mp" podman import -q --change 'CMD ["/bin/sh"]' "$TMP/rootfs.tar" "$IMAGE" >/dev/null \
            || fail "podman import of the busybox rootfs failed"
    fi
}

# --- containers ------------------------------------------------------------------------------------------
ip_of() { pm inspect "$1" | jq -r --arg n "$NET" '.[0].NetworkSettings.Networks[$n].IPAddress'; }
netns_of() { pm inspect -f '{{.NetworkSettings.SandboxKey}}' "$1"; }
host_veth_of() { # the host end of the container's eth0
    local idx; idx=$(pm exec "$1" cat /sys/class/net/eth0/iflink)
    ip -o link show | awk -F': ' -v i="$idx" '$1 == i { sub(/@.*/, "", $2); print $2 }'
}
wait_listen() { # wait_listen WHAT NETNS: fail unless something listens on $PORT in NETNS within 10 s
    local i
    for i in $(seq 100); do
        nsenter --net="$2" ss -Hltn "sport = :$PORT" | grep -q LISTEN && return 0
        sleep 0.1
    done
    fail "$1 does not listen on $PORT"
}
