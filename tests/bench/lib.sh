# lib.sh - what the posthaste benchmarks (smtp_source.sh, backlog.sh) share:
# the private network namespace, the work directory and the cleanup of what
# they started, timing, ports, the sink's count, the machine line.
# Sourced after the script set HERE, ROOT and BUILD; never run by itself.

# bench_netns ARGS...: the calling script again, in a private network
# namespace with only lo (nothing leaves), unless BENCH_NO_NETNS=1 or
# already inside one; returns only in the namespace
bench_netns() {
	if [ "${BENCH_NO_NETNS:-0}" != 1 ] && [ "${BENCH_IN_NETNS:-0}" != 1 ]; then
		exec unshare --net -- env BENCH_IN_NETNS=1 bash -c \
		    'ip link set lo up || exit 1; exec bash "$0" "$@"' "$0" "$@"
	fi
}

# bench_workdir PREFIX: WORK (a new directory under /tmp) and PIDS (what
# the script starts: stopped at exit, TERM then KILL, then WORK removed);
# a script defines bench_before_cleanup for what it stops first
bench_workdir() {
	WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	declare -F bench_before_cleanup >/dev/null && bench_before_cleanup
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -TERM "$p" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}

now() { date +%s.%N; }
# rate N SECONDS: N per second, rounded
rate() { awk -v n="$1" -v s="$2" 'BEGIN{ if (s>0) printf "%.0f", n/s; else print "-"}'; }
# wait_port PORT: 0 once something listens on it (30 s at most)
wait_port() { for _ in $(seq 300); do ss -Hltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.1; done; return 1; }
# sink_count: the messages smtp-sink -c counted so far (its output in SINK_OUT)
sink_count() { tail -c 200 "$SINK_OUT" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2; }

# bench_conf DATA_DIR PORT SINK_PORT: the start of a benchmark's posthaste
# config (SMTP on PORT, submission and TLS on the next two, every *.test
# relayed to SINK_PORT), ending in its [relay] section
bench_conf() {
	cat <<CONF
[global]
data_dir = $1
log_level = warn
[smtpd]
listen = 127.0.0.1:$2
submission_listen = 127.0.0.1:$(($2 + 1))
tls_listen = 127.0.0.1:$(($2 + 2))
# a benchmark measures the engine, not the default tenant's sending limits
default_per_minute = 1000000000
default_per_day = 1000000000
[relay]
routes = *.test=127.0.0.1:$3
CONF
}

# bench_machine: the line every benchmark starts with
bench_machine() {
	echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
	     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)," \
	     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
