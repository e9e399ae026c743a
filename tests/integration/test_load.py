#!/usr/bin/python3
"""Issue 10: ph-load, the load generator, against real servers.

Postfix's smtp-sink (every message dumped to a file, or scripted to refuse,
delay or hang up) and a running posthaste stack: plain on the relay-style
port, STARTTLS and implicit TLS with AUTH PLAIN on the submission ports with
a credential made by phctl, a sender that is not approved (535, counted as
5xx, exit 1); the open-loop --rate, --duration and SIGINT; the exit codes.
Every run uses --json and its summary is checked field by field.
"""
import json
import os
import re
import signal
import subprocess
import time

from phtest import (BIN, SANITIZER_MARKS, Procs, SmtpSink, Stack, free_port, run_tests,
                    stop_pid, wait_until)

PH_LOAD = os.path.join(BIN, "ph-load")
PROCS = Procs()
WORK = "/tmp"
SENDER = "load@source.test"
STACKS = {}
ZERO = {"2xx": 0, "4xx": 0, "5xx": 0, "lost": 0}


def replies(**counts):
    """The "replies" object of a summary: ZERO with COUNTS ("c2xx" -> "2xx")."""
    out = dict(ZERO)
    for k, v in counts.items():
        out[k.lstrip("c")] = v
    return out


def check_stderr(text):
    bad = [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKS)]
    assert not bad, "sanitizer reports from ph-load:\n" + text[-4000:]


def load(*args, expect=0, timeout=300):
    """ph-load --json ARGS: the summary, after checking the exit code, that
    the summary states it, and that stderr has no sanitizer report."""
    p = subprocess.run([PH_LOAD, "--json", *args], capture_output=True, text=True,
                       timeout=timeout)
    check_stderr(p.stderr)
    assert p.returncode == expect, "exit %d, want %d\n%s\n%s" % (
        p.returncode, expect, p.stdout, p.stderr)
    summary = json.loads(p.stdout)
    assert summary["exit"] == expect, summary
    return summary


def check_latency(summary, end_of_data):
    """Both histograms: counts, percentiles in order, below max."""
    lat = summary["latency_ms"]
    assert lat["end_of_data"]["count"] == end_of_data, lat
    assert lat["message"]["count"] == sum(summary["replies"][c] for c in ("2xx", "4xx", "5xx"))
    for h in lat.values():
        if h["count"]:
            vals = [h[k] for k in ("p50", "p90", "p99", "p99.9", "max")]
            assert vals == sorted(vals) and vals[0] > 0, h


def sink(extra=()):
    return SmtpSink(PROCS, WORK, extra=extra)


def dumped(s, n, timeout=30):
    """The N message files of smtp-sink S (waiting for them), as bytes."""
    wait_until(lambda: len(s.files()) >= n, timeout, "%d messages at smtp-sink" % n)
    time.sleep(0.2)
    msgs = s.messages()
    assert len(msgs) == n, "smtp-sink has %d messages, want %d" % (len(msgs), n)
    return msgs


def rcpt_args(msgs):
    return [a for m in msgs for a in re.findall(rb"^X-Rcpt-Args: <([^>]*)>", m, re.M)]


# -- against smtp-sink ---------------------------------------------------------

def test_sink_every_message_counted():
    s = sink()
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "5", "--messages", "500")
    assert r["replies"] == replies(c2xx=500), r
    assert (r["started"], r["messages"], r["recipients_refused"]) == (500, 500, 0), r
    assert r["connections"] == {"up": 5, "failed": 0, "first_failure": None}, r
    assert r["first_reply"] == {"2xx": "250 2.0.0 Ok"}, r
    assert r["server"] == "127.0.0.1:%d" % s.port and r["tls"] == "none", r
    assert r["interrupted"] is False and r["rate_target"] is None, r
    assert r["per_second"] > 0 and r["elapsed_s"] > 0, r
    check_latency(r, 500)
    msgs = dumped(s, 500)
    assert sorted(rcpt_args(msgs)) == sorted(b"user%d@example.test" % i for i in range(500))
    ids = set(re.search(rb"^Message-ID: (.*)$", m, re.M).group(1) for m in msgs)
    assert len(ids) == 500, "%d distinct Message-IDs" % len(ids)


def test_sink_file_pipelining_recipients():
    s = sink()
    path = os.path.join(WORK, "ph-load-dots-%d.eml" % s.port)
    with open(path, "wb") as f:   # bare LF, leading dots, no final newline
        f.write(b"From: load@source.test\nSubject: dots\n\n.leading dot\n..two\n.\nend")
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "3", "--messages", "60",
             "--file", path, "--pipelining", "--recipients", "3", "--to", "r%d@dest.test")
    os.unlink(path)
    assert r["replies"] == replies(c2xx=60), r
    msgs = dumped(s, 60)
    assert sorted(rcpt_args(msgs)) == sorted(b"r%d@dest.test" % i for i in range(180))
    for m in msgs:   # smtp-sink undoes the dot-stuffing: the file comes back as it was
        assert b"Subject: dots\n\n.leading dot\n..two\n.\nend\n" in m, m


def test_sink_refusals_by_class():
    s = sink(extra=("-f", "."))      # 5xx to every dot
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "2", "--messages", "20",
             expect=1)
    assert r["replies"] == replies(c5xx=20), r
    assert r["first_reply"] == {"5xx": "500 5.3.0 Error: command failed"}, r
    assert r["connections"]["up"] == 2, r   # the sessions go on after a refused dot
    check_latency(r, 20)
    s = sink(extra=("-r", "rcpt"))   # 4xx to every RCPT: RSET, next message
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "2", "--messages", "20",
             expect=1)
    assert r["replies"] == replies(c4xx=20) and r["recipients_refused"] == 20, r
    assert r["first_reply"] == {"4xx": "450 4.3.0 Error: command failed"}, r
    assert r["connections"]["up"] == 2, r
    check_latency(r, 0)


def test_sink_hangs_up():
    s = sink(extra=("-Q", "."))      # 421 after each dot, then the server closes
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "3", "--messages", "30",
             expect=1)
    assert r["replies"] == replies(c4xx=30), r
    assert r["connections"]["up"] >= 30 and r["connections"]["failed"] == 0, r
    s = sink(extra=("-q", "."))      # closes after each dot without a reply
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "2", "--messages", "10",
             expect=2)
    assert r["replies"] == replies(lost=10), r
    assert r["connections"]["failed"] == 10, r
    assert r["connections"]["first_failure"] == \
        "connection closed by the server (in TX)", r


def test_sink_caps_connections():
    # smtp-sink takes one connection at a time: one session carries every
    # message, the two waiting for a greeting are dropped at the end
    s = sink(extra=("-m", "1"))
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "3", "--messages", "20")
    assert r["replies"] == replies(c2xx=20), r
    assert r["connections"] == {"up": 1, "failed": 0, "first_failure": None}, r
    dumped(s, 20)


def test_sink_latency_is_the_dot_reply():
    s = sink(extra=("-W", ".:1"))    # the reply to the dot comes after 1 s
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "5", "--messages", "10")
    lat = r["latency_ms"]
    assert 1000 <= lat["end_of_data"]["p50"] < 5000, lat
    assert lat["end_of_data"]["p50"] <= lat["message"]["p50"], lat
    assert r["elapsed_s"] >= 2.0, r   # 10 messages, 5 at a time, 1 s each


def test_rate_roughly_honoured():
    s = sink()
    t0 = time.time()
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "4", "--messages", "200",
             "--rate", "100")
    wall = time.time() - t0
    # message i is due at i/100 s: the last at 1.99 s, whatever the machine
    assert wall >= 1.5 and r["elapsed_s"] >= 1.5, (wall, r)
    assert r["per_second"] <= 101, r
    assert r["replies"] == replies(c2xx=200) and r["rate_target"] == 100.0, r
    check_latency(r, 200)
    dumped(s, 200)


def test_duration_and_sigint():
    s = sink()
    r = load("--server", "127.0.0.1:%d" % s.port, "--sessions", "2", "--rate", "20",
             "--duration", "1")
    assert 10 <= r["messages"] <= 21 and r["messages_requested"] is None, r
    assert r["replies"]["2xx"] == r["messages"] and not r["interrupted"], r
    dumped(s, r["messages"])
    s = sink()
    p = subprocess.Popen([PH_LOAD, "--json", "--server", "127.0.0.1:%d" % s.port,
                          "--sessions", "3", "--rate", "50", "--duration", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    check_stderr(err)
    assert time.time() - t0 < 10 and p.returncode == 0, (p.returncode, err)
    r = json.loads(out)
    assert r["interrupted"] is True and r["exit"] == 0, r
    # 50/s for about 1.5 s; as fast as possible would be thousands
    assert 5 <= r["messages"] <= 150 and r["replies"] == replies(c2xx=r["messages"]), r
    dumped(s, r["messages"])   # every message started got its reply before the end


def test_connection_refused():
    port = free_port()   # nobody listens there
    r = load("--server", "127.0.0.1:%d" % port, "--sessions", "2", "--messages", "5",
             expect=2)
    assert r["replies"] == ZERO and r["connections"]["up"] == 0, r
    assert r["connections"]["failed"] == 10, r   # max(10, 2 x sessions) in a row
    assert r["connections"]["first_failure"] == "connect: Connection refused (in CONNECT)", r


def test_usage():
    p = subprocess.run([PH_LOAD, "--sessions", "0"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == "", p
    assert p.stderr == ('ph-load: bad value for --sessions: "0"\n'
                        "(ph-load --help lists the options)\n"), p.stderr
    p = subprocess.run([PH_LOAD, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("usage: ph-load [options]\n"), p
    p = subprocess.run([PH_LOAD, "--server", "no-such-host.invalid:25"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and p.stderr.startswith("ph-load: no-such-host.invalid: "), p


# -- against posthaste ---------------------------------------------------------

def stack():
    """One stack for every posthaste test: its sink, an approved sender, a
    user with an SMTP credential."""
    if "main" not in STACKS:
        s = sink()
        st = Stack("load", sink_port=s.port, config="[smtpd]\nauth_fail_limit = 1000\n")
        STACKS["main"] = st
        st.start()
        u = st.phctl("user", "add", "default", "load-user", "--compartment", "default")
        st.user_id = u["id"] if isinstance(u, dict) else u[0]["id"]
        st.cred = st.phctl("credential", "create", st.user_id)
        st.sink = s
        st.cert = os.path.join(st.data, "tls", "cert.pem")
        st.approve(SENDER)
        st.delivered = 0
    return STACKS["main"]


def expect_delivered(st, n):
    """N more messages reach the stack's sink, and the queue drains."""
    st.delivered += n
    wait_until(lambda: len(st.sink.files()) >= st.delivered, 120,
               "%d messages at the sink" % st.delivered, interval=0.2)
    st.wait_drained(60)
    time.sleep(0.5)
    assert len(st.sink.files()) == st.delivered, len(st.sink.files())


def test_posthaste_plain():
    st = stack()
    r = load("--server", "127.0.0.1:%d" % st.smtp_port, "--sessions", "5", "--messages",
             "300", "--pipelining", "--from", SENDER, "--to", "plain%d@dest.test")
    assert r["replies"] == replies(c2xx=300), r
    assert r["first_reply"]["2xx"].startswith("250 2.0.0 Ok"), r
    check_latency(r, 300)
    expect_delivered(st, 300)


def test_posthaste_starttls_and_tls_with_auth():
    st = stack()
    auth = ("--auth-user", st.cred["username"], "--auth-password", st.cred["password"])
    r = load("--server", "127.0.0.1:%d" % st.submission_port, "--starttls", "--cafile",
             st.cert, *auth, "--sessions", "4", "--messages", "200", "--pipelining",
             "--from", SENDER, "--to", "sub%d@dest.test")
    assert r["replies"] == replies(c2xx=200) and r["tls"] == "starttls", r
    assert r["connections"] == {"up": 4, "failed": 0, "first_failure": None}, r
    check_latency(r, 200)
    r = load("--server", "127.0.0.1:%d" % st.tls_port, "--tls", "--cafile", st.cert, *auth,
             "--sessions", "2", "--messages", "50", "--size", "102400", "--pipelining",
             "--from", SENDER, "--to", "imp%d@dest.test")
    assert r["replies"] == replies(c2xx=50) and r["tls"] == "implicit", r
    expect_delivered(st, 250)
    msgs = st.sink.messages()
    rcpts = set(rcpt_args(msgs))
    assert all(b"sub%d@dest.test" % i in rcpts for i in range(200)), "a STARTTLS message missing"
    assert all(b"imp%d@dest.test" % i in rcpts for i in range(50)), "a TLS message missing"
    for m in msgs:
        if b"X-Rcpt-Args: <imp" in m:   # 102400 body bytes: 1312 lines of 76 + CRLF, 64
            lines = m.split(b"\n\n", 1)[1].rstrip(b"\n").split(b"\n")
            assert [len(l) for l in lines] == [76] * 1312 + [64], "body of a 100 KiB message"


def test_posthaste_certificate_checked():
    st = stack()
    auth = ("--auth-user", st.cred["username"], "--auth-password", st.cred["password"])
    base = ("--server", "127.0.0.1:%d" % st.submission_port, "--starttls", *auth,
            "--sessions", "1", "--messages", "3", "--from", SENDER)
    r = load(*base, expect=2)   # the system's store does not know the self-signed certificate
    assert r["replies"] == ZERO and r["connections"]["up"] == 0, r
    assert r["connections"]["first_failure"] == ("TLS handshake failed: Server certificate "
                                                 "not verified: self-signed certificate (in TLS)"), r
    r = load(*base, "--insecure")
    assert r["replies"] == replies(c2xx=3), r
    r = load(*base[:-2], "--cafile", st.cert, "--auth-password", "wrong", expect=2)
    assert r["connections"]["first_failure"] == \
        "AUTH PLAIN refused: 535 Authentication credentials invalid (in AUTH)", r
    expect_delivered(st, 3)


def test_posthaste_535_counted_as_5xx():
    st = stack()
    r = load("--server", "127.0.0.1:%d" % st.smtp_port, "--sessions", "2", "--messages", "20",
             "--from", "not-approved@source.test", expect=1)
    assert r["replies"] == replies(c5xx=20), r
    assert r["first_reply"] == {
        "5xx": "535 Authorization failed: address not-approved@source.test not authorized"}, r
    assert r["connections"] == {"up": 2, "failed": 0, "first_failure": None}, r
    check_latency(r, 0)


def main():
    try:
        run_tests([test_sink_every_message_counted, test_sink_file_pipelining_recipients,
                   test_sink_refusals_by_class, test_sink_hangs_up, test_sink_caps_connections,
                   test_sink_latency_is_the_dot_reply, test_rate_roughly_honoured,
                   test_duration_and_sigint, test_connection_refused, test_usage,
                   test_posthaste_plain, test_posthaste_starttls_and_tls_with_auth,
                   test_posthaste_certificate_checked, test_posthaste_535_counted_as_5xx])
    finally:
        for st in STACKS.values():
            st.stop()
            st.assert_clean_log()
        PROCS.stop_all()


if __name__ == "__main__":
    main()
