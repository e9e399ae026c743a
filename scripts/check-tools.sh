#!/bin/sh
# check-tools.sh - check that each external tool the build and the tests use
# works the way they use it (scripts/tools.sh has the table and the checks),
# before anything is built. Stops at the first that does not, with one line
# naming the Debian package (or the npm packages) to install.
#
# usage: scripts/check-tools.sh [GROUP...]    default: every group
#   GROUPs: build test fuzz bench examples (see tools.sh); `make test` checks
#   build test fuzz, `make check` build test, `make run` build examples.
# DIAGNOSTICS: exit 0 and one "check-tools: N tools work" line, or exit 1 and
# one "check-tools: WHAT does not work: install ..." line on stderr.
set -eu
# shellcheck source=SCRIPTDIR/tools.sh
. "$(dirname "$0")/tools.sh"

WANT=" ${*:-build test fuzz bench examples} "
checked=0

# selected GROUPS - one of the comma-separated GROUPS was asked for
selected() {
	for g in $(echo "$1" | tr ',' ' '); do
		case $WANT in *" $g "*) return 0 ;; esac
	done
	return 1
}

# missing PACKAGE - how to install PACKAGE, for the one-line message
missing() {
	case $1 in
	npm:*) echo "the npm packages of ${1#npm:}/package-lock.json (cd ${1#npm:} && npm ci)" ;;
	*) echo "the Debian package $1 (apt-get install $1)" ;;
	esac
}

tool() {
	groups=$1 pkg=$2 what=$3
	shift 3
	selected "$groups" || return 0
	if ! ("$@") >/dev/null 2>&1; then
		echo "check-tools: $what does not work: install $(missing "$pkg")," \
		    "or run scripts/install-deps.sh" >&2
		exit 1
	fi
	checked=$((checked + 1))
}
ph_tools
echo "check-tools: $checked tools work for:${WANT% }"
