#!/usr/bin/python3
"""https_submit - HTTPS submissions per second with keep-alive, beside SMTP's,
on one posthaste stack (not a test: nothing passes or fails).

Starts a stack (phtest.Stack) with an smtp-sink, uploads an API key, then
CLIENTS processes each keep one HTTPS connection open and send MSGS/CLIENTS
signed SubmitEmail requests (1 KiB text body, one recipient); every 200 means
a queue shard synced the message. Then smtp-source sends the same number of
1 KiB messages with the same concurrency to the SMTP port. Prints both rates.

usage: tests/bench/https_submit.py BUILD_DIR [MSGS] [CLIENTS]
  BUILD_DIR is a release build, e.g.
    cmake -S . -B /tmp/build-rel -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
    cmake --build /tmp/build-rel -j2
  (its bin/ is used; the CMake build type and the machine are printed with the
  figures).
"""
import multiprocessing
import os
import platform
import re
import sys
import time

if len(sys.argv) < 2 or not os.path.isdir(os.path.join(sys.argv[1], "bin")):
    sys.exit(__doc__)
os.environ["PH_BIN_DIR"] = os.path.join(os.path.abspath(sys.argv[1]), "bin")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from phtest import (HttpsApi, Procs, SmtpSink, Stack, make_api_key, smtp_source,  # noqa: E402
                    wait_port, wait_until)

CONFIG = """[httpd]
client_rate = 100000000
default_per_minute = 100000000
default_per_day = 100000000
[smtpd]
default_per_minute = 100000000
default_per_day = 100000000
"""


def worker(args):
    st_attrs, key_id, pem, comp, n = args
    st = type("S", (), st_attrs)()
    api = HttpsApi(st, key_id, pem)
    body = {"sender": {"senderAddress": {"email": "bench@source.test"}, "compartmentId": comp},
            "recipients": {"to": [{"email": "rcpt@dest.test"}]},
            "subject": "bench", "bodyText": ("x" * 70 + "\n") * 14}
    bad = 0
    for _ in range(n):
        if api.call("POST", "/20220926/actions/submitEmail", body)[0] != 200:
            bad += 1
    api.close()
    return bad


def machine(build):
    """'<cpu model>, N cores, Linux <release>; build type <type>'"""
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    kind = "unknown"
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
            kind = (m.group(1) if m else "") or "none"
    except OSError:
        pass
    return "%s, %d cores, %s %s; build type %s (%s)" % (
        cpu, os.cpu_count(), platform.system(), platform.release(), kind, build)


def main():
    build = sys.argv[1]
    msgs = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    procs = Procs()
    try:
        sink = SmtpSink(procs, "/tmp")
        with Stack("bench-https", sink_port=sink.port, config=CONFIG) as st:
            st.start()
            wait_port(st.https_port)
            u = st.phctl("user", "list")[0]
            st.phctl("sender", "add", u["tenant_id"], "bench@source.test")
            kid, pem = make_api_key(st, u["id"])
            api = HttpsApi(st, kid, pem)
            wait_until(lambda: api.call("GET", "/20170907/configuration?compartmentId=" +
                                        u["tenant_id"])[0] == 200, 10, "the key")
            attrs = {"data": st.data, "https_port": st.https_port}
            jobs = [(attrs, kid, pem, u["compartment_ids"][0], msgs // clients)] * clients
            t0 = time.time()
            with multiprocessing.Pool(clients) as pool:
                bad = sum(pool.map(worker, jobs))
            dt = time.time() - t0
            n = (msgs // clients) * clients
            print("https: %d submissions, %d clients, keep-alive: %.0f msg/s accepted (%d not 200)"
                  % (n, clients, n / dt, bad))
            t0 = time.time()
            p = smtp_source(st.smtp_port, n, sessions=clients, size=1024)
            dt = time.time() - t0
            print("smtp:  %d messages, %d sessions (smtp-source -d): %.0f msg/s accepted (rc %d)"
                  % (n, clients, n / dt, p.returncode))
            print("machine: " + machine(build))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
