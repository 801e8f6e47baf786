#!/usr/bin/env bash
# What one CNI call costs: the Patu CNI executable (a forwarder to the running
# agent) against the reference bridge plugin, both answering CNI_COMMAND=VERSION.
# The runtime starts one such process per pod operation, so wall time and peak
# RSS per exec are the numbers that matter; VERSION isolates the exec cost
# from any networking work.
#
# Usage: bench/cni-exec-cost.sh [--plugin PATH] [--socket PATH] [--runs N]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
plugin=$repo/cni/target/patu
socket=/run/patu/patu.sock
bridge=/usr/lib/cni/bridge
runs=200
stdin_json='{"cniVersion":"1.0.0"}'

usage() {
	echo "usage: $0 [--plugin PATH] [--socket PATH] [--runs N]" >&2
	echo "  --plugin  the Patu CNI executable (default: $plugin)" >&2
	echo "  --socket  the running agent's socket (default: $socket)" >&2
	echo "  --runs    execs per plugin and per measurement (default: $runs)" >&2
	exit 2
}
die() { echo "error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--plugin) [ $# -ge 2 ] || usage; plugin=$2; shift 2 ;;
	--socket) [ $# -ge 2 ] || usage; socket=$2; shift 2 ;;
	--runs)   [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
	-h|--help) usage ;;
	*) usage ;;
	esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer, got '$runs'"

# Tools.  Wall time is taken inside one perl process with a monotonic
# nanosecond clock around fork+exec+wait: no shell or date(1) start-up
# inside the measured interval.  Peak RSS comes from GNU time's %M.
command -v perl >/dev/null || die "perl is needed: apt-get install perl"
perl -MTime::HiRes -e 1 2>/dev/null || die "perl's Time::HiRes is needed: apt-get install perl"
[ -x /usr/bin/time ] || die "GNU time is needed at /usr/bin/time: apt-get install time"
[ -x "$bridge" ] || die "the reference bridge plugin is needed at $bridge: apt-get install containernetworking-plugins"
[ -x "$plugin" ] || die "no Patu CNI executable at $plugin: build it (mvn -pl cni package) or pass --plugin"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
printf '%s' "$stdin_json" >"$workdir/stdin.json"

# Both plugins get the same minimal environment, so neither pays for a
# larger one.  It is set up before the measured exec (by perl, or by env(1)
# in front of GNU time): an env(1) exec'd into the plugin would add its own
# exec to the wall time and its own RSS to the peak.
call_vars=(PATH=/usr/bin:/bin CNI_COMMAND=VERSION PATU_SOCKET="$socket")
call_env=(env -i "${call_vars[@]}")

# The Patu executable without an agent only prints an error: measuring that
# would flatter it.  Prove the agent answers before timing anything.
need_agent() {
	echo "error: a running Patu agent is needed at $socket ($1)." >&2
	echo "Start it with: distribution/target/patu/bin/patu run" >&2
	echo "(or pass --socket with the socket of the agent that is running)" >&2
	exit 1
}
[ -S "$socket" ] || need_agent "no socket there"
if ! answer=$("${call_env[@]}" "$plugin" <"$workdir/stdin.json" 2>&1); then
	need_agent "the executable answered: $answer"
fi
"${call_env[@]}" "$bridge" <"$workdir/stdin.json" >/dev/null 2>&1 \
	|| die "$bridge failed on CNI_COMMAND=VERSION"

# Prints "median_ms p99_ms" over $runs execs of $1 (p99 by nearest rank).
wall_ms() {
	perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e '
		my ($runs, $in, $exe, @vars) = @ARGV;
		my @cmd = ($exe);
		my @ns;
		for (1 .. $runs) {
			my $t0 = clock_gettime(CLOCK_MONOTONIC);
			my $pid = fork() // die "fork: $!\n";
			if ($pid == 0) {
				open(STDIN, "<", $in) or die "$in: $!\n";
				open(STDOUT, ">", "/dev/null") or die;
				%ENV = map { split /=/, $_, 2 } @vars;
				exec(@cmd) or die "exec $cmd[0]: $!\n";
			}
			waitpid($pid, 0);
			my $t1 = clock_gettime(CLOCK_MONOTONIC);
			die "$cmd[-1] exited with status " . ($? >> 8) . "\n" if $?;
			push @ns, ($t1 - $t0) * 1e9;
		}
		@ns = sort { $a <=> $b } @ns;
		my $n = @ns;
		my $median = $n % 2 ? $ns[$n / 2] : ($ns[$n / 2 - 1] + $ns[$n / 2]) / 2;
		my $p99 = $ns[int(0.99 * $n + 0.999999) - 1];
		printf "%.3f %.3f\n", $median / 1e6, $p99 / 1e6;
	' "$runs" "$workdir/stdin.json" "$1" "${call_vars[@]}"
}

# Prints the largest max-RSS in KiB over $runs execs of $1.
peak_rss_kib() {
	local i peak=0 rss
	for ((i = 0; i < runs; i++)); do
		"${call_env[@]}" /usr/bin/time -f %M -o "$workdir/rss" "$1" \
			<"$workdir/stdin.json" >/dev/null || die "$1 failed while measuring RSS"
		rss=$(tail -n 1 "$workdir/rss")
		((rss > peak)) && peak=$rss
	done
	echo "$peak"
}

echo "measuring $runs runs each ..." >&2
read -r patu_med patu_p99 < <(wall_ms "$plugin")
read -r br_med br_p99 < <(wall_ms "$bridge")
patu_rss=$(peak_rss_kib "$plugin")
br_rss=$(peak_rss_kib "$bridge")

ratio() { perl -e 'printf "%.2f", $ARGV[1] ? $ARGV[0] / $ARGV[1] : 0' "$1" "$2"; }

echo
echo "CNI_COMMAND=VERSION, $runs runs each, $(uname -r), $(nproc) CPU"
echo
echo "| plugin | wall median (ms) | wall p99 (ms) | peak RSS (KiB) |"
echo "|---|---:|---:|---:|"
echo "| patu ($plugin) | $patu_med | $patu_p99 | $patu_rss |"
echo "| bridge ($bridge) | $br_med | $br_p99 | $br_rss |"
echo "| ratio patu/bridge | $(ratio "$patu_med" "$br_med") | $(ratio "$patu_p99" "$br_p99") | $(ratio "$patu_rss" "$br_rss") |"
