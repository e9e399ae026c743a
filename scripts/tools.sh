# shellcheck shell=sh
# tools.sh - every external program, library and module that posthaste's
# build, tests, fuzzers, benchmark and README examples use, with the Debian
# package that provides it and a check that it works the way they use it.
# Sourced by scripts/install-deps.sh (installs what is missing) and
# scripts/check-tools.sh (stops with one line naming what is missing).
#
# ph_tools calls `tool GROUPS PACKAGE WHAT CHECK...` once per entry; the
# sourcing script defines `tool`. GROUPS (comma-separated) say who needs it:
#   build     cmake build of the binaries and the unit tests (make build/run)
#   test      the unit and integration tests (make check, make test)
#   fuzz      the libFuzzer build (make fuzz, make test)
#   bench     tests/bench/smtp_source.sh (make bench)
#   examples  the README's commands (make run: used from a second terminal)
# PACKAGE is a Debian package, or npm:DIR for the npm packages pinned by
# DIR/package-lock.json. CHECK is a command (or one of the functions below)
# that succeeds when the tool works; its output is discarded.

PH_TOOLS_ROOT=$(cd "$(dirname "$0")/.." && pwd)

# the test scripts run Debian's Python (its python3-* packages), never a
# python3 that comes first on PATH
PH_PY=/usr/bin/python3

# have CMD... - every CMD is on PATH
have() {
	for c in "$@"; do command -v "$c" || return 1; done
}

# pc MODULE... - pkg-config finds every MODULE (what CMakeLists.txt asks for)
pc() {
	pkg-config --exists "$@"
}

# py MODULE... - Debian's python3 imports every MODULE
py() {
	"$PH_PY" -c "import $(echo "$@" | tr ' ' ',')"
}

# swaks_supports FEATURE - swaks lists FEATURE as supported (swaks --support
# names a missing Perl module as "*** FEATURE not available: requires ...")
swaks_supports() {
	swaks --support 2>&1 | grep -qx "=== $1 supported"
}

# compiles CC FLAGS... - CC builds and links a trivial program of stdin's
# source with FLAGS, and the program runs (sanitizer and fuzzer runtimes)
compiles() (
	cc=$1
	shift
	dir=$(mktemp -d) || exit 1
	"$cc" -x c - -o "$dir/a.out" "$@" && "$dir/a.out" -runs=1
	rc=$?
	rm -rf "$dir"
	exit $rc
)

cc_sanitizers() {
	echo 'int main(void) { return 0; }' | compiles cc -fsanitize=address,undefined
}

clang_libfuzzer() {
	echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
	      { (void)d; (void)n; return 0; }' |
	    compiles clang -fsanitize=fuzzer,address,undefined
}

# node_at_least MAJOR - the OCI TypeScript SDK test needs Node.js >= MAJOR
node_at_least() {
	node -e "process.exit(parseInt(process.versions.node) >= $1 ? 0 : 1)"
}

# npm_resolves DIR MODULE... - node resolves every MODULE from DIR's node_modules
npm_resolves() (
	cd "$PH_TOOLS_ROOT/$1" && shift &&
	    node -e 'for (const m of process.argv.slice(1)) require.resolve(m)' "$@"
)

# postfix_tools - the Postfix programs the tests run: smtp-source and
# smtp-sink as load and sink, postfix/postconf/postmap for a private instance
postfix_tools() {
	have smtp-source smtp-sink postfix postmap && postconf -d mail_version
}

# sasl_client_mechs MECH... - Cyrus SASL has a client plugin for every MECH
# (Postfix's SASL client in test_smtp_replies.py authenticates with PLAIN/LOGIN)
sasl_client_mechs() {
	for m in "$@"; do
		ls /usr/lib/*/sasl2/lib"$m".so* || return 1
	done
}

ph_tools() {
	tool build           make                 "make"                        make --version
	tool build           cmake                "cmake"                       cmake --version
	tool build           gcc                  "cc with ASan/UBSan"          cc_sanitizers
	tool build           pkg-config           "pkg-config"                  pkg-config --version
	tool build           protobuf-c-compiler  "protoc-c"                    protoc-c --version
	tool build           libzmq3-dev          "ZeroMQ headers (libzmq)"     pc libzmq
	tool build           libprotobuf-c-dev    "protobuf-c headers"          pc libprotobuf-c
	tool build           libevent-dev         "libevent headers"            pc libevent_core libevent_extra libevent_openssl libevent_pthreads
	tool build           libc-ares-dev        "c-ares headers"              pc libcares
	tool build           libjansson-dev       "jansson headers"             pc jansson
	tool build           libinih-dev          "inih headers"                pc inih
	tool build           libssl-dev           "OpenSSL headers"             pc openssl
	tool build           librocksdb-dev       "RocksDB headers"             test -e /usr/include/rocksdb/c.h
	tool build           libcmocka-dev        "cmocka (unit tests)"         pc cmocka
	tool build           libopendkim-dev      "libopendkim (DKIM unit test)" pc opendkim
	tool test,bench,examples python3          "/usr/bin/python3"            "$PH_PY" --version
	tool test            python3-aiosmtpd     "python3 module aiosmtpd"     py aiosmtpd.controller aiosmtpd.smtp
	tool test            python3-dkim         "python3 module dkim"         py dkim
	tool test            python3-dnspython    "python3 module dns"          py dns.message dns.query
	tool test,examples   python3-cryptography "python3 module cryptography" py cryptography.hazmat.primitives.asymmetric.rsa
	tool test,bench,examples postfix          "Postfix (smtp-source, smtp-sink, postfix, postmap)" postfix_tools
	tool test            libsasl2-modules     "SASL PLAIN/LOGIN for Postfix's client" sasl_client_mechs plain login
	tool test,examples   swaks                "swaks"                       swaks --version
	tool test,examples   libnet-ssleay-perl   "swaks --tls (Net::SSLeay)"   swaks_supports TLS
	tool test,examples   perl                 "swaks --auth PLAIN/LOGIN"    swaks_supports "Basic AUTH"
	tool test,bench,examples openssl          "openssl"                     openssl version
	tool test,bench      dnsmasq-base         "dnsmasq"                     dnsmasq --version
	tool test            nodejs               "node >= 18"                  node_at_least 18
	tool test            npm                  "npm"                         npm --version
	tool test            npm:tests            "the OCI TypeScript SDK"      npm_resolves tests oci-common oci-email oci-emaildataplane
	tool examples        curl                 "curl (tests/integration/ocisign.py)" curl --version
	tool bench           iproute2             "ip, ss"                      have ip ss
	tool fuzz            clang                "clang"                       clang --version
	tool fuzz            libclang-rt-14-dev   "clang's libFuzzer and ASan runtime" clang_libfuzzer
}
