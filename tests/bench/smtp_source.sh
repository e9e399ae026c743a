#!/bin/bash
# smtp_source.sh - posthaste beside Postfix, measured in the same run, runs
# alternating between them:
#   smtp-source -> MTA on 127.0.0.1 -> relay -> smtp-sink on 127.0.0.1
# Prints accept msg/s (every message got its 250, over smtp-source's wall
# time) and end-to-end msg/s (until smtp-sink counted them all) for each MTA,
# the ratios, and the machine. Not a test: nothing here passes or fails.
#
# usage: tests/bench/smtp_source.sh [BUILD_DIR]
# env:   SESSIONS (20), SIZE (1024), MSGS (20000), REPS (3), PERSIST (1: -d),
#        QUEUES (1: queue shards, as the embedded default config),
#        PEERS ("posthaste postfix"), BENCH_NO_NETNS=1 to skip the private netns,
#        SIGNED=1: posthaste DKIM-signs (RSA-2048 key of source.test made ACTIVE
#        first, its DNS records served by a dnsmasq on 127.0.0.1:$DNS_PORT),
#        SIGNED=ed25519: the same with an Ed25519 key
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SESSIONS=${SESSIONS:-20} SIZE=${SIZE:-1024} MSGS=${MSGS:-20000} REPS=${REPS:-3}
PERSIST=${PERSIST:-1} PEERS=${PEERS:-"posthaste postfix"} SIGNED=${SIGNED:-0}
PH_PORT=2535 PF_PORT=2525 SINK_PORT=2526 DNS_PORT=2553

. "$HERE/lib.sh"
bench_netns "$@"	# loopback only, in a private network namespace
bench_workdir ph-bench
chmod 755 "$WORK"   # Postfix daemons run as postfix and must reach their queue
bench_before_cleanup() { [ -n "${PF_CONF:-}" ] && postfix -c "$PF_CONF" stop >/dev/null 2>&1; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

SINK_OUT=$WORK/sink.out
smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 4096 >"$SINK_OUT" 2>&1 &
PIDS+=($!)
wait_port $SINK_PORT || { echo "smtp-sink did not start" >&2; exit 1; }

# measure_one PORT NAME RUN: one smtp-source run into PORT; its accept and
# end-to-end rates are added to ACC_<NAME> and E2E_<NAME> unless RUN is the warm-up
measure_one() {
	local port=$1 name=$2 r=$3 before t0 t1 t2 target opt=() rc a e
	[ "$PERSIST" = 1 ] && opt=(-d)
	sync	# neither MTA pays for the other's writeback
	before=$(sink_count); before=${before:-0}; target=$((before + MSGS))
	t0=$(now)
	smtp-source "${opt[@]}" -s "$SESSIONS" -m "$MSGS" -l "$SIZE" -M bench.source.test \
	    -f bench@source.test -t rcpt@dest.test "127.0.0.1:$port" >"$WORK/src.log" 2>&1
	rc=$?
	t1=$(now)
	while [ "$(sink_count)" -lt "$target" ]; do
		sleep 0.02
		if awk -v a="$(now)" -v b="$t1" 'BEGIN{exit !(a-b>300)}'; then
			echo "  $name run $r: e2e timeout, sink at $(( $(sink_count) - before ))/$MSGS" >&2; break
		fi
	done
	t2=$(now)
	a=$(rate "$MSGS" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
	e=$(rate "$MSGS" "$(awk -v a="$t0" -v b="$t2" 'BEGIN{print b-a}')")
	echo "  $name run $r: accept $a msg/s, e2e $e msg/s (smtp-source rc=$rc)"
	[ "$r" != warmup ] && eval "ACC_$name+=($a); E2E_$name+=($e)"
	sleep 1
}

# results NAME: the medians of NAME's runs into RESULT_<NAME>
results() {
	local acc e2e
	eval "acc=(\"\${ACC_$1[@]}\"); e2e=(\"\${E2E_$1[@]}\")"
	eval "RESULT_$1=\"$(median "${acc[@]}") $(median "${e2e[@]}")\""
}

# json FIELD: FIELD of the JSON object on stdin
json() { /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# dkim_activate CONF: a key for source.test, its CNAME and TXT served by
# dnsmasq, then wait until the DNS checker made it ACTIVE
dkim_activate() {
	local phctl=("$BUILD/bin/phctl" --config "$1" --json) k id txt name value state
	local keyopt=()
	"${phctl[@]}" domain add default source.test >/dev/null || return 1
	if [ "$SIGNED" = ed25519 ]; then
		openssl genpkey -algorithm ed25519 -out "$WORK/ed25519.pem" || return 1
		keyopt=(--key-file "$WORK/ed25519.pem")
	fi
	k=$("${phctl[@]}" dkim add source.test s1 "${keyopt[@]}") || return 1
	id=$(json id <<<"$k") name=$(json cname_record_name <<<"$k")
	value=$(json cname_record_value <<<"$k") txt=$(json txt_record_value <<<"$k")
	# dnsmasq takes a TXT as strings of at most 255 bytes
	printf 'cname=%s,%s\ntxt-record=%s' "$name" "$value" "$value" >"$WORK/dnsmasq.conf"
	while [ -n "$txt" ]; do printf ',"%s"' "${txt:0:255}"; txt=${txt:255}; done >>"$WORK/dnsmasq.conf"
	echo >>"$WORK/dnsmasq.conf"
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
	    --listen-address=127.0.0.1 --port=$DNS_PORT --conf-file="$WORK/dnsmasq.conf" \
	    --user= --pid-file= >"$WORK/dnsmasq.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 300); do
		state=$("${phctl[@]}" dkim show "$id" | json lifecycle_state)
		[ "$state" = ACTIVE ] && { echo "DKIM key $id ACTIVE (s1._domainkey.source.test)"; return 0; }
		sleep 0.1
	done
	echo "DKIM key $id still $state" >&2
	return 1
}

start_posthaste() {
	local dd=$WORK/ph dkim_conf=
	mkdir -p "$dd"
	local queue_conf=
	[ "${QUEUES:-1}" != 1 ] && queue_conf="[endpoints]
queue = $(seq 0 $((QUEUES - 1)) | sed "s|.*|ipc://$dd/var/run/queue-&.sock|" | paste -sd, -)"
	[ "$SIGNED" != 0 ] && dkim_conf="[dkim]
check_interval = 1s
dns_servers = 127.0.0.1:$DNS_PORT
dns_timeout = 500ms"
	{ bench_conf "$dd/var" $PH_PORT $SINK_PORT; cat <<CONF
$dkim_conf
$queue_conf
CONF
	} >"$dd/posthaste.conf"
	"$BUILD/bin/posthaste" run --config "$dd/posthaste.conf" >"$dd/posthaste.log" 2>&1 &
	local sup=$!
	PIDS+=($sup)
	for _ in $(seq 300); do [ -e "$dd/var/run/ready" ] && break; sleep 0.1; done
	wait_port $PH_PORT || { echo "posthaste did not start; log:" >&2; tail "$dd/posthaste.log" >&2; return 1; }
	# trusted-network clients send as the tenant "default" from approved senders only
	"$BUILD/bin/phctl" --config "$dd/posthaste.conf" sender add default bench@source.test >/dev/null ||
	    { echo "phctl sender add failed" >&2; return 1; }
	[ "$SIGNED" != 0 ] && { dkim_activate "$dd/posthaste.conf" || return 1; }
	sleep 1
	echo "posthaste ($BUILD, $(grep -c . <<<"$(ls "$dd/var/run/"*.pid)") processes$(
	    [ "$SIGNED" != 0 ] && echo ", DKIM-signed")) on port $PH_PORT"
	PH_CONF_FILE=$dd/posthaste.conf
}

# stop_posthaste: after the runs (the header log names the selector of what was signed)
stop_posthaste() {
	[ "$SIGNED" != 0 ] && echo "  last message's dkim_selector: $("$BUILD/bin/phctl" --config \
	    "$PH_CONF_FILE" --json log --sender bench@source.test --limit 1 |
	    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0].get("dkim_selector"))')"
}

start_postfix() {
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
	echo "postfix $(postconf -d -h mail_version) on port $PF_PORT"
}
stop_postfix() { :; }	# cleanup stops it

bench_machine
echo "run: $(case $SIGNED in 1) echo "posthaste DKIM-signing (rsa-sha256, 2048 bits), ";;
    ed25519) echo "posthaste DKIM-signing (ed25519-sha256), ";; esac)smtp-source -s $SESSIONS -m $MSGS -l $SIZE $( [ "$PERSIST" = 1 ] && echo -d), $REPS runs each, medians; $(date -u +%FT%TZ)"
for p in $PEERS; do "start_$p" || exit 1; done
# Runs alternate between the MTAs (a warm-up round first, not counted, like
# the reference harness's pilot run): both see the same machine, also when
# its speed drifts during the benchmark (shared hosts do).
port_of() { case $1 in posthaste) echo $PH_PORT;; postfix) echo $PF_PORT;; esac; }
for r in warmup $(seq "$REPS"); do
	for p in $PEERS; do measure_one "$(port_of $p)" "$p" "$r"; done
done
for p in $PEERS; do results "$p"; "stop_$p"; done
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
