# Sourced first by the benchmark scripts. They need root (network namespaces, bridges, cgroups, eBPF
# programs); run by a user with sudo, the script runs itself again through it, with the variables that
# steer the benchmarks kept (sudo resets the environment).
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 \
        || { echo "${0##*/}: needs root (network namespaces, bridges, cgroups, eBPF programs), and sudo is not installed: run it as root" >&2; exit 1; }
    patu_keep=()
    for patu_name in PATU_JAVA PATU_JVM_OPTS JAVA_HOME; do
        [ -z "${!patu_name:-}" ] || patu_keep+=("$patu_name=${!patu_name}")
    done
    exec sudo -- env "${patu_keep[@]}" "$(readlink -f "$0")" "$@"
fi
