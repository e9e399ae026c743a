#!/bin/bash
# fresh-machine.sh - the proof that `make test` passes on a fresh Debian 12
# machine: a debootstrapped bookworm root (minbase, plus make: every machine of
# the project's kind has it, and `make` cannot install itself), the
# repository's committed HEAD cloned into it with git, and `make test` run
# inside as root. scripts/install-deps.sh must install everything else: nothing
# installed on this host is visible inside.
#
# usage: scripts/fresh-machine.sh [COMMAND]
#   COMMAND (default "make test") runs as root in the clone, with a clean
#   environment, e.g. 'make test-build && cd build-asan && ctest -R it_dkim'
# env:
#   FRESH_CACHE     the debootstrapped root as a tarball, made on the first run
#                   (/var/tmp/posthaste-bookworm-minbase.tar.gz)
#   FRESH_DL_CACHE  folder kept between runs for apt's downloaded .deb files and
#                   npm's cache (/var/tmp/posthaste-fresh-downloads; empty: none).
#                   Downloads only: apt and npm check them against the fresh
#                   indexes and lock file, and install as on a new machine.
#   FRESH_KEEP=1    keep the root afterwards (its path is printed)
#
# How: unshare gives the run its own mount and PID namespaces. Inside, fresh
# /proc, /sys (read-only), /dev (a tmpfs with null, zero, full, random,
# urandom and tty bound from the host, a new devpts instance, a tmpfs
# /dev/shm) and /run (a tmpfs: `ip netns` keeps its files there) are mounted
# on the root; the port counter of tests/integration/phtest.py is the host's,
# so tests in the root and on the host never pick the same port. Then chroot.
# Afterwards every process left in the namespace is killed by its PID and
# everything mounted is unmounted; the host removes the root. The network is
# the host's (apt, npm, and the tests' loopback).
#
# DIAGNOSTICS: exits with COMMAND's status; the log is kept in
# /var/tmp/posthaste-fresh.*.log. Needs root, git, unshare, and debootstrap
# (installed with apt-get when missing).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SELF=$REPO/scripts/fresh-machine.sh
CACHE=${FRESH_CACHE:-/var/tmp/posthaste-bookworm-minbase.tar.gz}
DL_CACHE=${FRESH_DL_CACHE-/var/tmp/posthaste-fresh-downloads}
PORTS=${TMPDIR:-/tmp}/posthaste-test-ports
CLONE=/root/posthaste

say() { echo "fresh-machine: $*"; }
die() { say "$*" >&2; exit 1; }

# ---- inside the namespaces (the script runs itself with --inside)

# mount_root ROOT - what a booted machine has mounted, fresh for this root
mount_root() {
	local r=$1 n
	mount -t proc proc "$r/proc"
	mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
	mount -t tmpfs -o nosuid,mode=755 tmpfs "$r/dev"
	for n in null zero full random urandom tty; do
		touch "$r/dev/$n"
		mount --bind "/dev/$n" "$r/dev/$n"
	done
	mkdir "$r/dev/pts" "$r/dev/shm"
	mount -t devpts -o newinstance,gid=5,mode=620,ptmxmode=666 devpts "$r/dev/pts"
	mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$r/dev/shm"
	ln -s pts/ptmx "$r/dev/ptmx"
	ln -s /proc/self/fd "$r/dev/fd"
	ln -s /proc/self/fd/0 "$r/dev/stdin"
	ln -s /proc/self/fd/1 "$r/dev/stdout"
	ln -s /proc/self/fd/2 "$r/dev/stderr"
	mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs "$r/run"
	touch "$r/tmp/posthaste-test-ports"
	mount --bind "$PORTS" "$r/tmp/posthaste-test-ports"
	if [ -n "$DL_CACHE" ]; then
		mkdir -p "$r/root/.npm"
		mount --bind "$DL_CACHE/apt" "$r/var/cache/apt/archives"
		mount --bind "$DL_CACHE/npm" "$r/root/.npm"
	fi
}

# kill_left - kill by PID every process of this PID namespace but this shell
# (its PID 1): whatever COMMAND left running
kill_left() {
	local p comm
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = 1 ] && continue
		read -r comm <"/proc/$p/comm" 2>/dev/null || continue
		say "killing $p ($comm), left running"
		kill -KILL "$p" 2>/dev/null || true
	done
	for _ in $(seq 50); do	# until they are gone (or reaped)
		set -- /proc/[0-9]*
		[ $# -le 2 ] && return 0	# this shell and the seq above, if still listed
		sleep 0.1
	done
}

# umount_root ROOT - unmount everything mounted under ROOT, deepest first
umount_root() {
	local m
	awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts |
	    tac | while read -r m; do umount "$m" || umount -l "$m"; done
}

inside() {
	local root=$1 cmd=$2 rc=0
	mount_root "$root"
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    /bin/bash -c "cd $CLONE && $cmd" </dev/null || rc=$?
	kill_left
	umount_root "$root"
	return $rc
}

# ---- on the host

# debian_mirror SUITE - the mirror this host's apt uses for SUITE/main
debian_mirror() {
	apt-cache policy | awk -v s="$1/main" '$3 == s { print $2; exit }'
}

# make_cache - debootstrap bookworm (minbase + make) from the host's mirror
# into a tarball, with the host's Debian sources and, as in container
# images, a policy-rc.d that keeps packages from starting services
make_cache() {
	local mirror security dir
	mirror=$(debian_mirror bookworm)
	security=$(debian_mirror bookworm-security)
	mirror=${mirror:-http://deb.debian.org/debian}
	security=${security:-http://deb.debian.org/debian-security}
	command -v debootstrap >/dev/null || {
		apt-get update -q && apt-get install -y -q --no-install-recommends debootstrap
	}
	dir=$(mktemp -d /var/tmp/posthaste-debootstrap.XXXXXX)
	chmod 755 "$dir"
	say "debootstrap bookworm from $mirror into $dir"
	debootstrap --variant=minbase --include=make bookworm "$dir" "$mirror" >"$dir.log" 2>&1 ||
	    { tail -20 "$dir.log" >&2; die "debootstrap failed (log: $dir.log)"; }
	rm -f "$dir/etc/apt/sources.list"
	cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
	tar -C "$dir" -czf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
	rm -rf --one-file-system "$dir" "$dir.log"
	say "cached the root in $CACHE"
}

# network_cas DIR - the certificates of this host's CA bundle that Debian's
# ca-certificates does not ship (the network's own, through which the npm
# registry is reached), one per DIR/posthaste-network-N.crt, where
# update-ca-certificates finds them when install-deps.sh installs it
network_cas() {
	local bundle=/etc/ssl/certs/ca-certificates.crt
	[ -s "$bundle" ] && [ -d /usr/share/ca-certificates/mozilla ] || return 0
	mkdir -p "$1"
	awk -v dir="$1" '
	    /BEGIN CERTIFICATE/ { pem = "" }
	    { pem = pem $0 "\n" }
	    /END CERTIFICATE/ {
		if (FILENAME != bundle) shipped[pem] = 1
		else if (!(pem in shipped)) printf "%s", pem > (dir "/posthaste-network-" ++n ".crt")
	    }' bundle="$bundle" /usr/share/ca-certificates/mozilla/*.crt "$bundle"
}

# prepare_root ROOT - unpack the cached root, give it this host's DNS
# resolver and network CAs, and clone the committed HEAD into it
prepare_root() {
	local root=$1 head apt_uid
	tar -C "$root" -xzf "$CACHE"
	chmod 755 "$root"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	network_cas "$root/usr/local/share/ca-certificates"
	apt_uid=$(awk -F: '$1 == "_apt" { print $3 }' "$root/etc/passwd")
	[ -z "$DL_CACHE" ] || [ -z "$apt_uid" ] || chown "$apt_uid" "$DL_CACHE/apt/partial"
	[ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	    >"$root/etc/hosts"
	head=$(git -C "$REPO" rev-parse HEAD)
	git clone -q --no-hardlinks "$REPO" "$root$CLONE"
	git -C "$root$CLONE" checkout -q --detach "$head"
	[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no)" ] ||
	    say "note: uncommitted changes in $REPO are not part of this run"
	say "cloned $head ($(git -C "$REPO" log -1 --format=%s | cut -c1-60))"
}

# remove_root ROOT - delete the root, never while anything is mounted in it
remove_root() {
	if awk -v r="$1" 'index($2, r "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
		say "something is still mounted under $1: not removed" >&2
	elif [ "${FRESH_KEEP:-0}" = 1 ]; then
		say "kept the root: $1"
	else
		rm -rf --one-file-system "$1"
	fi
}

ROOT=""
main() {
	local cmd=${1:-make test} log start rc=0
	[ "$(id -u)" = 0 ] || die "run as root (debootstrap, unshare, chroot)"
	[ -s "$CACHE" ] || make_cache
	[ -e "$PORTS" ] || { : >"$PORTS" && chmod 666 "$PORTS"; }
	[ -z "$DL_CACHE" ] || mkdir -p "$DL_CACHE/apt/partial" "$DL_CACHE/npm"
	ROOT=$(mktemp -d /var/tmp/posthaste-fresh.XXXXXX)
	trap 'remove_root "$ROOT"' EXIT
	log=$ROOT.log
	prepare_root "$ROOT"
	say "running '$cmd' in $ROOT (log: $log)"
	start=$(date +%s)
	unshare --mount --propagation private --pid --fork --mount-proc \
	    "$SELF" --inside "$ROOT" "$cmd" 2>&1 | tee "$log" || rc=$?
	local t=$(($(date +%s) - start))
	say "'$cmd' exited $rc after $((t / 60))m$((t % 60))s"
	return $rc
}

if [ "${1:-}" = --inside ]; then
	shift
	inside "$@"
else
	main "$@"
fi
