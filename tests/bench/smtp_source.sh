#!/bin/bash
# smtp_source.sh - posthaste beside Postfix, measured in the same run:
#   smtp-source -> MTA on 127.0.0.1 -> relay -> smtp-sink on 127.0.0.1
# Prints accept msg/s (every message got its 250, over smtp-source's wall
# time) and end-to-end msg/s (until smtp-sink counted them all) for each MTA,
# the ratios, and the machine. Not a test: nothing here passes or fails.
#
# usage: tests/bench/smtp_source.sh [BUILD_DIR]
# env:   SESSIONS (20), SIZE (1024), MSGS (20000), REPS (3), PERSIST (1: -d),
#        PEERS ("posthaste postfix"), BENCH_NO_NETNS=1 to skip the private netns
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SESSIONS=${SESSIONS:-20} SIZE=${SIZE:-1024} MSGS=${MSGS:-20000} REPS=${REPS:-3}
PERSIST=${PERSIST:-1} PEERS=${PEERS:-"posthaste postfix"}
PH_PORT=2535 PF_PORT=2525 SINK_PORT=2526

# Everything runs in a private network namespace with only lo: nothing leaves.
if [ "${BENCH_NO_NETNS:-0}" != 1 ] && [ "${BENCH_IN_NETNS:-0}" != 1 ]; then
	exec unshare --net -- env BENCH_IN_NETNS=1 bash -c \
	    'ip link set lo up || exit 1; exec bash "$0" "$@"' "$0" "$@"
fi

WORK=$(mktemp -d /tmp/ph-bench.XXXXXX)
chmod 755 "$WORK"   # Postfix daemons run as postfix and must reach their queue
PIDS=()
cleanup() {
	[ -n "${PF_CONF:-}" ] && postfix -c "$PF_CONF" stop >/dev/null 2>&1
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -TERM "$p" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN{ if (s>0) printf "%.0f", n/s; else print "-"}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
wait_port() { for _ in $(seq 200); do ss -Hltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.1; done; return 1; }

SINK_OUT=$WORK/sink.out
smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 4096 >"$SINK_OUT" 2>&1 &
PIDS+=($!)
wait_port $SINK_PORT || { echo "smtp-sink did not start" >&2; exit 1; }
sink_count() { tail -c 200 "$SINK_OUT" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2; }

# measure PORT NAME -> appends "accept e2e" medians to RESULT_<NAME>
measure() {
	local port=$1 name=$2 acc=() e2e=() r before t0 t1 t2 target opt=()
	[ "$PERSIST" = 1 ] && opt=(-d)
	for r in $(seq "$REPS"); do
		before=$(sink_count); before=${before:-0}; target=$((before + MSGS))
		t0=$(now)
		smtp-source "${opt[@]}" -s "$SESSIONS" -m "$MSGS" -l "$SIZE" -M bench.source.test \
		    -f bench@source.test -t rcpt@dest.test "127.0.0.1:$port" >"$WORK/src.log" 2>&1
		local rc=$?
		t1=$(now)
		while [ "$(sink_count)" -lt "$target" ]; do
			sleep 0.02
			if awk -v a="$(now)" -v b="$t1" 'BEGIN{exit !(a-b>300)}'; then
				echo "  $name run $r: e2e timeout, sink at $(( $(sink_count) - before ))/$MSGS" >&2; break
			fi
		done
		t2=$(now)
		local a e
		a=$(rate "$MSGS" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
		e=$(rate "$MSGS" "$(awk -v a="$t0" -v b="$t2" 'BEGIN{print b-a}')")
		echo "  $name run $r: accept $a msg/s, e2e $e msg/s (smtp-source rc=$rc)"
		acc+=("$a"); e2e+=("$e")
		sleep 1
	done
	eval "RESULT_$name=\"$(median "${acc[@]}") $(median "${e2e[@]}")\""
}

run_posthaste() {
	local dd=$WORK/ph
	mkdir -p "$dd"
	cat >"$dd/posthaste.conf" <<CONF
[global]
data_dir = $dd/var
log_level = warn
[smtpd]
listen = 127.0.0.1:$PH_PORT
submission_listen = 127.0.0.1:$((PH_PORT + 1))
tls_listen = 127.0.0.1:$((PH_PORT + 2))
# a benchmark measures the engine, not the default tenant's sending limits
default_per_minute = 1000000000
default_per_day = 1000000000
[relay]
routes = *.test=127.0.0.1:$SINK_PORT
CONF
	"$BUILD/bin/posthaste" run --config "$dd/posthaste.conf" >"$dd/posthaste.log" 2>&1 &
	local sup=$!
	PIDS+=($sup)
	for _ in $(seq 300); do [ -e "$dd/var/run/ready" ] && break; sleep 0.1; done
	wait_port $PH_PORT || { echo "posthaste did not start; log:" >&2; tail "$dd/posthaste.log" >&2; return 1; }
	# trusted-network clients send as the tenant "default" from approved senders only
	"$BUILD/bin/phctl" --config "$dd/posthaste.conf" sender add default bench@source.test >/dev/null ||
	    { echo "phctl sender add failed" >&2; return 1; }
	sleep 1
	echo "posthaste ($BUILD, $(grep -c . <<<"$(ls "$dd/var/run/"*.pid)") processes)"
	measure $PH_PORT posthaste
	kill -TERM $sup; wait $sup 2>/dev/null
}

run_postfix() {
	command -v postfix >/dev/null || { echo "postfix is not installed" >&2; return 1; }
	local root=$WORK/pf
	PF_CONF=$root/etc
	mkdir -p "$PF_CONF" "$root/spool" "$root/data"
	cp /etc/postfix/master.cf.proto "$PF_CONF/master.cf" 2>/dev/null || cp /etc/postfix/master.cf "$PF_CONF/master.cf"
	: >"$PF_CONF/main.cf"
	chown postfix "$root/data"
	postconf -c "$PF_CONF" -e "compatibility_level = 3.6" "queue_directory = $root/spool" \
	    "data_directory = $root/data" "maillog_file_prefixes = $root" "maillog_file = $root/maillog" \
	    "mail_owner = postfix" "setgid_group = postdrop" "myhostname = relay.bench.test" \
	    "mydomain = bench.test" "mydestination =" "local_recipient_maps =" "alias_maps =" \
	    "alias_database =" "local_transport = error:local delivery is disabled" \
	    "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" \
	    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
	    "relayhost = [127.0.0.1]:$SINK_PORT" "smtp_host_lookup = native" \
	    "smtp_tls_security_level = may" "biff = no"
	postconf -c "$PF_CONF" -M# smtp/inet
	postconf -c "$PF_CONF" -M "127.0.0.1:$PF_PORT/inet = 127.0.0.1:$PF_PORT inet n - n - - smtpd"
	postconf -c "$PF_CONF" -F '*/*/chroot = n'
	postfix -c "$PF_CONF" start >/dev/null 2>&1 || { echo "postfix start failed" >&2; return 1; }
	wait_port $PF_PORT || return 1
	echo "postfix $(postconf -d -h mail_version)"
	measure $PF_PORT postfix
	postfix -c "$PF_CONF" stop >/dev/null 2>&1; PF_CONF=
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "run: smtp-source -s $SESSIONS -m $MSGS -l $SIZE $( [ "$PERSIST" = 1 ] && echo -d), $REPS runs each, medians; $(date -u +%FT%TZ)"
for p in $PEERS; do "run_$p"; done
echo
printf '%-10s %12s %12s\n' MTA "accept/s" "e2e/s"
for p in $PEERS; do
	eval "set -- \${RESULT_$p:-- -}"
	printf '%-10s %12s %12s\n' "$p" "$1" "$2"
done
if [ -n "${RESULT_posthaste:-}" ] && [ -n "${RESULT_postfix:-}" ]; then
	set -- $RESULT_posthaste; pa=$1 pe=$2
	set -- $RESULT_postfix; fa=$1 fe=$2
	echo "ratio posthaste/postfix: accept $(awk -v a="$pa" -v b="$fa" 'BEGIN{printf "%.1f", a/b}')x," \
	     "end to end $(awk -v a="$pe" -v b="$fe" 'BEGIN{printf "%.1f", a/b}')x"
fi
