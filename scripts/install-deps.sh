#!/bin/sh
# install-deps.sh - install the Debian 12 packages posthaste needs to build,
# run and test, and only those that are missing (no apt-get when nothing is).
set -eu

BUILD_PKGS="cmake make gcc pkg-config libzmq3-dev librocksdb-dev libssl-dev
  libprotobuf-c-dev protobuf-c-compiler libevent-dev libc-ares-dev libjansson-dev
  libinih-dev libopendkim-dev libcmocka-dev openssl"
TEST_PKGS="postfix swaks python3 python3-aiosmtpd python3-dkim iproute2 procps dnsmasq-base"
# HTTPS tests: the OCI request signer (python3-cryptography) and the OCI
# TypeScript SDK (node + npm; NodeSource's nodejs bundles npm, Debian's does not)
TEST_PKGS="$TEST_PKGS python3-cryptography nodejs"
command -v npm >/dev/null 2>&1 || TEST_PKGS="$TEST_PKGS npm"
# "make fuzz": clang with the libFuzzer runtime; SASL modules for the Postfix
# client that authenticates to ph-smtpd in the SMTP tests
TEST_PKGS="$TEST_PKGS clang libclang-rt-14-dev libsasl2-modules"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing"
# Postfix is only a test peer (smtp-source, smtp-sink, a private relaying
# instance): keep debconf from configuring a system mail server.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
