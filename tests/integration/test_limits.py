#!/usr/bin/python3
"""Issue 6: ph-ratelimiter end to end on real processes.

The seed's 455 replies for per-minute and per-day limits set with
`phctl limits set`, `phctl limits usage`, one count shared by two ph-smtpd
processes (SO_REUSEPORT on one port), counters that survive kill -9 of the
ratelimiter, `451 Server error` while it is stopped or when its key cap is
reached, and the relays' per-destination throttle. HTTPS LimitExceeded is tested with ph-httpd.
"""
import calendar
import os
import signal
import subprocess
import time

from phtest import (BIN, Procs, RawSmtp, SmtpSink, Stack, event_records, run_tests,
                    wait_until)

SENDER = "limits@source.test"
RCPT = "bob@dest.test"
MINUTE_455 = "455 Maximum messages sent per minute reached : limit is %d"
DAY_455 = "455 Maximum messages sent per day reached : limit is %d"


def with_stack(name, fn, per_minute=None, per_day=None, **kw):
    """A stack with a sink; the trusted tenant "default" gets the limits
    given and SENDER as an approved sender."""
    procs = Procs()
    try:
        sink = SmtpSink(procs, "/tmp")
        with Stack(name, sink_port=sink.port, **kw) as st:
            st.start()
            st.phctl("sender", "add", "default", SENDER)
            opts = []
            if per_minute:
                opts += ["--per-minute", str(per_minute)]
            if per_day:
                opts += ["--per-day", str(per_day)]
            if opts:
                st.phctl("limits", "set", "default", *opts)
            time.sleep(1.0)   # the policy replicas apply the change (pushed at once)
            fn(st, sink)
    finally:
        procs.stop_all()


def send_n(port, n, want="250 "):
    """N messages on one connection, each must get a reply starting WANT."""
    c = RawSmtp(port)
    try:
        for i in range(n):
            r = c.send_mail(SENDER, RCPT, subject="limits %d" % i)
            assert r.startswith(want), "message %d of %d: got %r, want %r" % (i + 1, n, r, want)
    finally:
        c.close()


def send_one(port):
    c = RawSmtp(port)
    try:
        return c.send_mail(SENDER, RCPT)
    finally:
        c.close()


def usage(st):
    """phctl limits usage default --json, windows by name"""
    u = st.phctl("limits", "usage", "default")
    return {w["window"]: w for w in u["windows"]}


def test_minute_limit_455_and_usage():
    def body(st, sink):
        send_n(st.smtp_port, 10)
        assert send_one(st.smtp_port) == MINUTE_455 % 10
        w = usage(st)
        assert (w["minute"]["used"], w["minute"]["limit"], w["minute"]["remaining"]) == (10, 10, 0), w
        assert 0 < w["minute"]["next_free_ms"] <= 60000, w
        assert w["minute"]["key"].startswith("tenant:") and w["minute"]["key"].endswith(":minute")
        assert (w["day"]["used"], w["day"]["limit"], w["day"]["next_free_ms"]) == (10, 50000, 0), w
        text = subprocess.run([os.path.join(BIN, "phctl"), "--config", st.config_path,
                               "limits", "usage", "default"], capture_output=True, text=True,
                              timeout=30)
        assert text.returncode == 0, text.stderr
        rows = {l.split()[0]: l.split() for l in text.stdout.splitlines() if l.strip()}
        assert rows["minute"][1:4] == ["10", "10", "0"] and rows["minute"][4] == "in", text.stdout
        assert rows["day"][1:5] == ["10", "50000", "49990", "now"], text.stdout
        bad = subprocess.run([os.path.join(BIN, "phctl"), "--config", st.config_path,
                              "limits", "usage", "no-such-tenant"], capture_output=True,
                             text=True, timeout=30)
        assert bad.returncode == 1 and "no such tenant" in bad.stderr, bad
    with_stack("minute", body, per_minute=10)


def test_day_limit_455():
    def body(st, sink):
        send_n(st.smtp_port, 7)
        assert send_one(st.smtp_port) == DAY_455 % 7
        assert send_one(st.smtp_port) == DAY_455 % 7
        w = usage(st)
        assert (w["day"]["used"], w["minute"]["used"]) == (7, 7), w
        assert w["day"]["next_free_ms"] > 60000, w
    with_stack("day", body, per_day=7)


def test_two_smtpd_share_one_count():
    """[supervisor] smtpd = 2: both bind [smtpd] listen with SO_REUSEPORT;
    connect until each message lands on the process it should. Two
    ratelimiter shards: phctl must find the count where both ph-smtpd put it."""
    def conn_to(st, pid, pids):
        for _ in range(200):
            c = RawSmtp(st.smtp_port)
            if c.server_pid(pids) == pid:
                return c
            c.close()
        raise AssertionError("no connection reached pid %d" % pid)

    def body(st, sink):
        pids = [st.pid("ph-smtpd", 0), st.pid("ph-smtpd", 1)]
        assert None not in pids and pids[0] != pids[1], pids
        for i in range(10):
            c = conn_to(st, pids[i % 2], pids)
            r = c.send_mail(SENDER, RCPT, subject="shared %d" % i)
            c.close()
            assert r.startswith("250 "), "message %d: %r" % (i + 1, r)
        for pid in pids:
            c = conn_to(st, pid, pids)
            r = c.send_mail(SENDER, RCPT)
            c.close()
            assert r == MINUTE_455 % 10, "ph-smtpd pid %d: %r" % (pid, r)
        assert usage(st)["minute"]["used"] == 10
    with_stack("twosmtpd", body, per_minute=10, smtpd=2, ratelimiters=2)


def test_kill9_ratelimiter_keeps_day_count():
    """8 of 10 daily tokens used; kill -9 after a flush interval (100 ms
    default; the documented crash bound); after the restart only 2 more."""
    def body(st, sink):
        send_n(st.smtp_port, 8)
        assert usage(st)["day"]["used"] == 8
        time.sleep(0.5)
        old = st.pid("ph-ratelimiter")
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: st.pid("ph-ratelimiter") not in (None, old), 30,
                   "ph-ratelimiter to be restarted")

        def day_used():
            try:
                return usage(st)["day"]["used"] + 1
            except AssertionError:
                return 0
        assert wait_until(day_used, 30, "the new ratelimiter to answer") == 9
        send_n(st.smtp_port, 2)
        assert send_one(st.smtp_port) == DAY_455 % 10
    with_stack("kill9", body, per_day=10)


def test_ratelimiter_stopped_451_then_flows():
    def body(st, sink):
        send_n(st.smtp_port, 1)
        pid = st.pid("ph-ratelimiter")
        os.kill(pid, signal.SIGSTOP)
        try:
            t0 = time.time()
            assert send_one(st.smtp_port) == "451 Server error"
            assert time.time() - t0 < 10
        finally:
            os.kill(pid, signal.SIGCONT)
        send_n(st.smtp_port, 2)
        wait_until(lambda: len(sink.files()) >= 3, 30, "3 messages at the sink")
    with_stack("rlstop", body, config="[smtpd]\nratelimit_timeout = 500ms\n")


def test_key_cap_refuses_new_keys_as_unavailable():
    """[ratelimiter] max_keys = 1: a message needs the tenant's minute and
    day keys, which do not fit: the ratelimiter answers "unavailable" at
    once (no deadline waited for), tenant limits fail closed with the
    documented 451, and the ratelimiter says why in its log."""
    def body(st, sink):
        t0 = time.time()
        assert send_one(st.smtp_port) == "451 Server error"
        assert time.time() - t0 < 5
        wait_until(lambda: "ratelimiter: key limit reached (0 keys)" in st.log(), 10,
                   "the key cap warning")
        assert len(sink.files()) == 0
    with_stack("keycap", body, config="[ratelimiter]\nmax_keys = 1\n"
               "[smtpd]\nratelimit_timeout = 10s\n")


def iso_ms(stamp):
    """unix ms of an event log time "2026-01-02T03:04:05.678Z" """
    secs = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(stamp[20:23])


def test_relay_destination_throttle():
    """destination_rate = 30 per 6 s window: 40 messages to one destination
    arrive, but never more than 30 within any window (the relayed log's
    times, with the delivery time as slack); the refused tokens are logged
    and the tasks wait in the relay (no deferral reaches the queue)."""
    window = 6.0

    def body(st, sink):
        send_n(st.smtp_port, 40)
        wait_until(lambda: len(sink.files()) >= 40, 60, "40 messages at the sink",
                   interval=0.2)
        recs = [r["data"] for r in event_records(st.data, "relayed")]
        times = sorted(iso_ms(r["time"]) for r in event_records(st.data, "relayed"))
        assert len(times) == 40 and all(r["message"] == "delivered" for r in recs), recs[:3]
        assert all(r["attempt"] == 1 for r in recs), "a throttled task was deferred"
        spans = [times[i + 30] - times[i] for i in range(len(times) - 30)]
        assert min(spans) >= (window - 1.0) * 1000, "31 deliveries within %d ms" % min(spans)
        assert "messages throttled, next token in" in st.log()
        wait_until(lambda: len(sink.files()) == 40, 10, "exactly 40 files at the sink")
    with_stack("destrate", body, config="[relay]\ndestination_rate = 30\n"
               "destination_window = %ds\n" % window)


def test_relay_throttle_hold_bound_defers_to_queue():
    """destination_rate = 5 per minute, destination_hold_max = 1s: the 3
    tasks that would wait a minute go back to their shard deferred (not
    failed, not lost) instead of outliving their lease in the relay."""
    def body(st, sink):
        send_n(st.smtp_port, 8)
        wait_until(lambda: len(event_records(st.data, "relayed")) >= 8, 30,
                   "8 relayed records")
        recs = [r["data"] for r in event_records(st.data, "relayed")]
        got = sorted((r["message"], r["smtpStatus"]) for r in recs)
        want = sorted([("delivered", "250 2.0.0 Ok")] * 5 + [
            ("deferred", "4.7.0 destination rate limit reached, retry later")] * 3)
        assert got == want, got
        # smtp-sink may write its dump file just after its 250
        wait_until(lambda: len(sink.files()) >= 5, 10, "5 messages in smtp-sink's dump")
        assert len(sink.files()) == 5, sink.files()
        assert st.queue_totals()["messages"] == 3
    with_stack("desthold", body, config="[relay]\ndestination_rate = 5\n"
               "destination_hold_max = 1s\n")


if __name__ == "__main__":
    run_tests([test_minute_limit_455_and_usage, test_day_limit_455,
               test_two_smtpd_share_one_count, test_kill9_ratelimiter_keeps_day_count,
               test_ratelimiter_stopped_451_then_flows, test_key_cap_refuses_new_keys_as_unavailable,
               test_relay_destination_throttle,
               test_relay_throttle_hold_bound_defers_to_queue])
