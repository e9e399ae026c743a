#!/bin/sh
# install-deps.sh - install what posthaste's build, tests, fuzzers, benchmark
# and README examples use (the table is scripts/tools.sh), and only what is
# missing: no apt-get when nothing is. A Debian package counts as present when
# dpkg has it or when its check in tools.sh already passes (NodeSource's
# nodejs bundles npm, which Debian packages separately). Then the npm packages
# of the OCI SDK test (tests/package-lock.json), unless node resolves them.
# Run as root or through sudo; scripts/check-tools.sh then checks the result.
set -eu
# shellcheck source=SCRIPTDIR/tools.sh
. "$(dirname "$0")/tools.sh"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# pass 1: the Debian packages
apt_missing=""
tool() {
	pkg=$2
	shift 3
	case $pkg in npm:*) return 0 ;; esac
	case " $apt_missing " in *" $pkg "*) return 0 ;; esac
	installed "$pkg" && return 0
	("$@") >/dev/null 2>&1 && return 0
	apt_missing="$apt_missing $pkg"
}
ph_tools
if [ -n "$apt_missing" ]; then
	echo "installing:$apt_missing"
	# Postfix is only a test peer (smtp-source, smtp-sink, a private relaying
	# instance): keep debconf from configuring a system mail server.
	echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
	$SUDO apt-get update -q
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $apt_missing
fi

# pass 2: npm packages pinned in a package-lock.json, as the user (not sudo)
tool() {
	pkg=$2
	shift 3
	case $pkg in npm:*) ;; *) return 0 ;; esac
	("$@") >/dev/null 2>&1 && return 0
	echo "installing the npm packages of ${pkg#npm:}/package-lock.json"
	(cd "$PH_TOOLS_ROOT/${pkg#npm:}" && npm ci --no-audit --no-fund --loglevel=error)
}
ph_tools
