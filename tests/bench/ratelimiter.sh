#!/bin/bash
# ratelimiter.sh - ph-ratelimiter decisions per second over ZeroMQ, one shard
# and two shards, with the machine. A benchmark, not a test: nothing here
# passes or fails. Builds nothing: point it at a (release) build.
#
# usage: tests/bench/ratelimiter.sh [BUILD_DIR]
#   e.g. cmake -S . -B /tmp/build-rel -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
#        cmake --build /tmp/build-rel -j && tests/bench/ratelimiter.sh /tmp/build-rel
# env:   SECONDS_EACH (5), PROCS (2 client processes), CLIENTS (4 rl_clients
#        per process), INFLIGHT (64 requests in flight per client),
#        TENANTS (10000), SHARDS ("1 2"), REPS (3)
#
# Each decision is what ph-smtpd asks for one message: the per-minute and
# per-day limits of a random tenant, taken atomically, shard chosen by
# rl_shard_index. rl_bench starts the shards itself (ipc:// in a temp dir)
# and stops them by PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd) || exit 1
BIN=$BUILD/bin
SECONDS_EACH=${SECONDS_EACH:-5} PROCS=${PROCS:-2} CLIENTS=${CLIENTS:-4}
INFLIGHT=${INFLIGHT:-64} TENANTS=${TENANTS:-10000} SHARDS=${SHARDS:-"1 2"} REPS=${REPS:-3}

for b in rl_bench ph-ratelimiter; do
	[ -x "$BIN/$b" ] || { echo "ratelimiter.sh: no $BIN/$b (build first)" >&2; exit 1; }
done

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)
sanitize=$(sed -n 's/^PH_SANITIZE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)
echo "machine: $(nproc) cpus, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
    "$(uname -sr)"
echo "build:   $BUILD (${build_type:-?}, sanitizers ${sanitize:-OFF})"
echo "load:    $PROCS client procs x $CLIENTS rl_clients x $INFLIGHT in flight," \
    "$TENANTS tenants, ${SECONDS_EACH}s per run, $REPS runs"

for s in $SHARDS; do
	rates=()
	for r in $(seq 1 "$REPS"); do
		out=$("$BIN/rl_bench" -b "$BIN/ph-ratelimiter" -s "$s" -p "$PROCS" -c "$CLIENTS" \
		    -w "$INFLIGHT" -t "$SECONDS_EACH" -k "$TENANTS" 2>&1)
		rate=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9][0-9]*\) decisions\/s.*/\1/p')
		[ -n "$rate" ] || { printf '%s\n' "$out" >&2; exit 1; }
		rates+=("$rate")
	done
	sorted=$(printf '%s\n' "${rates[@]}" | sort -n | tr '\n' ' ')
	median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (REPS + 1) / 2 ))p")
	printf '%d shard(s): median %s decisions/s (runs: %s)\n' "$s" "$median" "$sorted"
done
