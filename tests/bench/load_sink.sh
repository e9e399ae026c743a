#!/bin/bash
# load_sink.sh - the load generators themselves: Postfix's smtp-source and
# ph-load, each straight into the same smtp-sink, runs alternating. This is
# the ceiling of what each can offer a server on this machine (the sink does
# no work), not a server benchmark. Not a test: nothing here passes or fails.
#
# usage: tests/bench/load_sink.sh [BUILD_DIR]
# env:   SESSIONS (20), MSGS (20000), SIZE (1024: smtp-source -l, ph-load --size),
#        REPS (3), BENCH_NO_NETNS=1 to skip the private network namespace
# Prints msg/s for each run (wall time of the whole client run) and the medians:
#   smtp-source -s SESSIONS -m MSGS -l SIZE -d       (one message per round trip)
#   ph-load --sessions SESSIONS --messages MSGS --size SIZE
#   ph-load ... --pipelining                          (MAIL/RCPT/DATA in one write)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SESSIONS=${SESSIONS:-20} MSGS=${MSGS:-20000} SIZE=${SIZE:-1024} REPS=${REPS:-3}
SINK_PORT=2526

# loopback only, in a private network namespace: nothing leaves
if [ "${BENCH_NO_NETNS:-0}" != 1 ] && [ "${BENCH_IN_NETNS:-0}" != 1 ]; then
	exec unshare --net -- env BENCH_IN_NETNS=1 bash -c \
	    'ip link set lo up || exit 1; exec bash "$0" "$@"' "$0" "$@"
fi

WORK=$(mktemp -d /tmp/ph-load-bench.XXXXXX)
SINK_PID=
cleanup() {
	[ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{ printf "%.0f", n/(b-a) }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 4096 >"$WORK/sink.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 100); do
	ss -Hltn "sport = :$SINK_PORT" | grep -q LISTEN && break
	sleep 0.05
done

# one NAME CMD...: run the client once, print and record its rate
one() {
	local name=$1 t0 t1 r rc
	shift
	t0=$(now)
	"$@" >"$WORK/$name.out" 2>&1
	rc=$?
	t1=$(now)
	r=$(rate "$MSGS" "$t0" "$t1")
	echo "  $name: $r msg/s (exit $rc)"
	eval "R_${name//-/_}+=($r)"
}

SRC=(smtp-source -s "$SESSIONS" -m "$MSGS" -l "$SIZE" -d -f bench@source.test
    -t rcpt@dest.test "127.0.0.1:$SINK_PORT")
LOAD=("$BUILD/bin/ph-load" --server "127.0.0.1:$SINK_PORT" --sessions "$SESSIONS"
    --messages "$MSGS" --size "$SIZE" --from bench@source.test --to "rcpt%d@dest.test")
echo "smtp-sink on 127.0.0.1:$SINK_PORT; $SESSIONS sessions x $MSGS messages of $SIZE bytes"
for r in $(seq "$REPS"); do
	echo "round $r"
	one smtp-source "${SRC[@]}"
	one ph-load "${LOAD[@]}"
	one ph-load-pipelining "${LOAD[@]}" --pipelining
done
echo "last ph-load summary:"
sed 's/^/  /' "$WORK/ph-load-pipelining.out"
echo "medians of $REPS: smtp-source $(median "${R_smtp_source[@]}") msg/s," \
    "ph-load $(median "${R_ph_load[@]}") msg/s," \
    "ph-load --pipelining $(median "${R_ph_load_pipelining[@]}") msg/s"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
