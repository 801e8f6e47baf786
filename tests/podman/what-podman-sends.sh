#!/usr/bin/env bash
# what-podman-sends.sh: which CNI_ARGS (and other CNI_* variables) podman passes to a CNI plugin. Runs three
# containers on a network whose only plugin logs its environment and stdin and returns an empty result, then
# prints the log. README "Network policy" quotes what podman 4.3.1 sent:
#   IgnoreUnknown=1;K8S_POD_NAME=<container name>        (and ;IP=<address> with --network NET:ip=ADDRESS)
# Labels (--label) are not passed.
#
# Run as root on Debian 12 with podman and busybox-static installed. Everything is private to the run
# (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, a temporary directory) and removed at the end.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
T=$(mktemp -d /tmp/what-podman-sends.XXXXXX)
VAR_LIB_CNI_EXISTED=0; [ -e /var/lib/cni ] && VAR_LIB_CNI_EXISTED=1
cleanup() {
    CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf podman rm -af >/dev/null 2>&1 || true
    CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf podman rmi -af >/dev/null 2>&1 || true
    rm -f /var/lib/cni/results/argslog-* 2>/dev/null || true
    # libcni made /var/lib/cni/results for its result cache; remove it if this run made it.
    [ "$VAR_LIB_CNI_EXISTED" = 1 ] || rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T"/{cni-bin,cni-conf,storage,run,tmp,rootfs/bin}
cat >"$T/cni-bin/argslog" <<PLUGIN
#!/bin/sh
if [ "\$CNI_COMMAND" = VERSION ]; then echo '{"cniVersion":"0.4.0","supportedVersions":["0.3.1","0.4.0"]}'; exit 0; fi
{ env | grep '^CNI_' | sort; echo "stdin: \$(cat)"; echo; } >> "$T/calls.log"
echo '{"cniVersion":"0.4.0","interfaces":[],"ips":[]}'
PLUGIN
chmod +x "$T/cni-bin/argslog"
echo '{"cniVersion":"0.4.0","name":"argslog","plugins":[{"type":"argslog"}]}' >"$T/cni-conf/argslog.conflist"
cat >"$T/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$T/cni-bin"]
network_config_dir = "$T/cni-conf"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$T/tmp"
CONF
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$T" "$T" >"$T/storage.conf"
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
cp /bin/busybox "$T/rootfs/bin/" && ln -s busybox "$T/rootfs/bin/true"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
# podman 4.3's import writes a blob-info cache under /var/lib/containers whatever the storage root: a tmpfs
# over it in a private mount namespace keeps the machine untouched (as podman-on-patu.sh does).
mp=/var/lib/containers/cache; while [ ! -d "$mp" ]; do mp=$(dirname "$mp"); done
unshare --mount --propagation private -- sh -c 'mount -t tmpfs -o size=16m argslog "$1" && shift && exec "$@"' \
    _ "$mp" podman import -q "$T/rootfs.tar" localhost/argslog:1 >/dev/null
podman --version
podman run --rm --name web-1 --network argslog localhost/argslog:1 /bin/true
podman run --rm --name labelled --label app=web --network argslog:ip=10.88.9.9 localhost/argslog:1 /bin/true
cat "$T/calls.log"
