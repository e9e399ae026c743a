#!/usr/bin/python3
"""https_submit - HTTPS submissions per second with keep-alive, beside SMTP's,
on one posthaste stack (not a test: nothing passes or fails).

Starts a stack (phtest.Stack) with an smtp-sink, uploads an API key, then
CLIENTS processes each keep one HTTPS connection open and send MSGS/CLIENTS
signed SubmitEmail requests (1 KiB text body, one recipient); every 200 means
a queue shard synced the message. Then smtp-source sends the same number of
1 KiB messages with the same concurrency to the SMTP port. Prints both rates.

usage: PH_BIN_DIR=build/bin tests/bench/https_submit.py [MSGS] [CLIENTS]
"""
import multiprocessing
import os
import sys
import time

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


def main():
    msgs = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
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
            print("machine: %d cores, %s" % (os.cpu_count(), os.uname().release))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
