#!/usr/bin/python3
"""Issue 9: ready means ready, everywhere.

From the moment the supervisor starts, clients knock on every public
listener (relay-style SMTP, submission with STARTTLS and AUTH, implicit TLS
with AUTH, HTTPS with a signed request) in a tight loop: a connection is
refused, or it gets the documented not-ready answer, or it gets correct
answers (250 for a message, 200 for a signed request) -- never a 500 or
another SMTP 4xx/5xx. The window is made real with PH_FAULTS=policy_slow
(common/base/fault.h: every policy replica waits 4 s for its first
snapshot). Then every queue shard is stopped (SIGSTOP): new SMTP
connections get the exact 421 line, a transaction in progress gets it at
its final dot, HTTPS gets 503 ServiceUnavailable with retry-after, and
service resumes by itself when the shards continue. The health endpoints
of every process ([health] listen, and ph-httpd's own listener) answer
200 or 503 as the process is ready or not.
"""
import http.client
import json
import os
import signal
import socket
import threading
import time
import uuid

from phtest import (HttpsApi, Procs, RawSmtp, SmtpSink, Stack, make_api_key, run_tests,
                    wait_until)

NOT_READY = "421 4.3.2 Service not available, try again later"
SENDER = "alice@source.test"
SUBMIT = "/20220926/actions/submitEmail"
UNAVAILABLE = {"code": "ServiceUnavailable", "message": "Service Unavailable"}
PROCESSES = (("ph-control", 0), ("ph-ratelimiter", 0), ("ph-queue", 0), ("ph-queue", 1),
             ("ph-relay", 0), ("ph-smtpd", 0))
CONFIG = """
[smtpd]
queue_timeout = 1s
[httpd]
queue_timeout = 1s
"""


class Env:
    """One stack for the file: prepared once (user, credential, API key,
    approved sender), stopped, then started again by the first test."""
    st = sink = procs = None
    cred = api = comp = tenant = None


def prepared():
    """The stack with its policy data in place, not running."""
    if Env.st is None:
        Env.procs = Procs()
        Env.sink = SmtpSink(Env.procs, "/tmp")
        st = Env.st = Stack("ready", sink_port=Env.sink.port, config=CONFIG, health=True)
        st.start()
        u = st.phctl("user", "add", "default", "ready-user", "--compartment", "default")
        Env.cred = st.phctl("credential", "create", u["id"])
        Env.comp, Env.tenant = u["compartment_ids"][0], u["tenant_id"]
        key_id, pem = make_api_key(st, u["id"])
        Env.api = HttpsApi(st, key_id, pem)
        st.approve(SENDER)
        st.stop()
    return Env.st


def running():
    """The prepared stack, started (without faults) unless it runs."""
    st = prepared()
    if st.sup is None or st.sup.poll() is not None:
        st.start()
    return st


def health(port, path="/health/ready"):
    """(status, parsed JSON or None) of a GET on a [health] listener; None
    when refused."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        is_json = r.getheader("content-type") == "application/json"
        return r.status, json.loads(body) if is_json else None
    except ConnectionRefusedError:
        return None
    finally:
        c.close()


def submit_body(tag):
    return {"sender": {"compartmentId": Env.comp, "senderAddress": {"email": SENDER}},
            "recipients": {"to": [{"email": "rcpt@dest.test"}]},
            "subject": tag, "bodyText": "ready"}


# ---- one attempt per listener kind: "refused", "not-ready" or "ok"; a wrong
# answer raises AssertionError

def smtp_attempt(st, kind, tag):
    port = {"relay": st.smtp_port, "submission": st.submission_port, "tls": st.tls_port}[kind]
    try:
        c = RawSmtp(port, timeout=15, tls=kind == "tls")
    except ConnectionRefusedError:
        return "refused"
    try:
        if c.banner == NOT_READY:
            assert c.at_eof(), "%s: the connection stays open after %r" % (kind, NOT_READY)
            return "not-ready"
        assert c.banner.startswith("220 ") and c.ehlo.startswith("250 "), (c.banner, c.ehlo)
        if kind == "submission":
            r = c.starttls()
            assert r == "220 Ready to start TLS", "%s: STARTTLS got %r" % (kind, r)
        if kind != "relay":
            r = c.auth_plain(Env.cred["username"], Env.cred["password"])
            assert r.startswith("235 "), "%s: AUTH got %r" % (kind, r)
        r = c.send_mail(SENDER, "rcpt@dest.test", subject=tag)
        assert r.startswith("250 "), "%s: the message got %r" % (kind, r)
        c.close()
        return "ok"
    finally:
        c.sock.close()


def https_attempt(st, tag):
    try:
        cfg = Env.api.call("GET", "/20170907/configuration?compartmentId=" + Env.tenant)
        if cfg[0] == 503:
            assert cfg[1] == UNAVAILABLE and int(cfg[2]["retry-after"]) >= 1, cfg
            return "not-ready"
        assert cfg[0] == 200, "signed GET: %r" % (cfg,)
        sub = Env.api.call("POST", SUBMIT, submit_body(tag))
        assert sub[0] == 200 and sub[1].get("messageId"), "submitEmail: %r" % (sub,)
        return "ok"
    except ConnectionRefusedError:
        return "refused"


class Knocker(threading.Thread):
    """Attempts on one listener in a tight loop until WANT of them succeeded
    (or the deadline); every outcome counted, the first failure kept."""

    def __init__(self, st, kind, want=3, deadline=90):
        super().__init__(daemon=True)
        self.st, self.kind, self.want = st, kind, want
        self.deadline = time.time() + deadline
        self.counts = {"refused": 0, "not-ready": 0, "ok": 0}
        self.failure, self.tags = None, []

    def attempt(self, tag):
        if self.kind == "https":
            return https_attempt(self.st, tag)
        return smtp_attempt(self.st, self.kind, tag)

    def run(self):
        while self.counts["ok"] < self.want and time.time() < self.deadline:
            tag = "ready-%s-%s" % (self.kind, uuid.uuid4().hex[:12])
            try:
                outcome = self.attempt(tag)
            except Exception as e:  # noqa: BLE001 - any wrong answer is the failure
                self.failure = "%s: %s: %s" % (self.kind, type(e).__name__, e)
                return
            self.counts[outcome] += 1
            if outcome == "ok":
                self.tags.append(tag)
            else:
                time.sleep(0.01)


class HealthWatch(threading.Thread):
    """Every answer of one /health/ready until it says 200 (None: refused)."""

    def __init__(self, port, deadline=90):
        super().__init__(daemon=True)
        self.port, self.deadline, self.seen = port, time.time() + deadline, []

    def run(self):
        while time.time() < self.deadline:
            r = health(self.port)
            if r is not None:
                self.seen.append(r)
                if r[0] == 200:
                    return
            time.sleep(0.02)


def test_no_wrong_answer_while_starting():
    st = prepared()
    knockers = [Knocker(st, k) for k in ("relay", "submission", "tls", "https")]
    watch = HealthWatch(st.health_port("ph-smtpd"))
    for t in knockers + [watch]:
        t.start()
    st.start(env={"PH_FAULTS": "policy_slow"})
    for t in knockers + [watch]:
        t.join(120)
    for k in knockers:
        print("%s: %r%s" % (k.kind, k.counts, ", " + k.failure if k.failure else ""))
    for k in knockers:
        assert k.failure is None, k.failure
        assert k.counts["ok"] == k.want, "%s: %r" % (k.kind, k.counts)
        assert k.counts["refused"] > 0, "%s: never refused: no window was seen" % k.kind
    # while its replica waited, ph-smtpd said why on its health listener
    not_ready = [r for r in watch.seen if r[0] == 503]
    assert not_ready, watch.seen
    assert not_ready[0][1] == {"status": "not ready", "process": "ph-smtpd", "instance": 0,
                               "reason": "policy replica not loaded"}, not_ready[0]
    assert watch.seen[-1][0] == 200, watch.seen
    assert all(r[0] in (200, 503) for r in watch.seen), watch.seen
    # the supervisor's READY came after the listeners: each serves at once
    for kind in ("relay", "submission", "tls"):
        assert smtp_attempt(st, kind, "after-ready-" + kind) == "ok"
    assert https_attempt(st, "after-ready-https") == "ok"
    # every 250 and 200 is a message that arrives
    tags = [t for k in knockers for t in k.tags]
    wait_until(lambda: set(tags) <= set(Env.sink.header_values("Subject")), 60,
               "every accepted message at the sink")


def test_health_endpoints():
    st = running()
    for name, inst in PROCESSES:
        port = st.health_port(name, inst)
        want = {"process": name, "instance": inst}
        assert health(port) == (200, dict(want, status="ready")), (name, inst)
        assert health(port, "/health/live") == (200, dict(want, status="live")), (name, inst)
        assert health(port, "/health/other")[0] == 404, (name, inst)
    # ph-httpd: on its own HTTPS listener, no signature needed
    for path, status in (("/health/ready", "ready"), ("/health/live", "live")):
        r = Env.api.call("GET", path, sign=False)
        assert r[:2] == (200, {"status": status, "process": "ph-httpd", "instance": 0}), r


def in_data(st):
    """A relay-style session in DATA, its message sent but not its dot."""
    c = RawSmtp(st.smtp_port)
    assert c.cmd("MAIL FROM:<%s>" % SENDER).startswith("250 ")
    assert c.cmd("RCPT TO:<rcpt@dest.test>").startswith("250 ")
    assert c.cmd("DATA").startswith("354 ")
    c.sock.sendall(b"From: <%s>\r\nSubject: in-flight\r\n\r\nhello\r\n" % SENDER.encode())
    return c


def test_losing_every_queue_shard():
    st = running()
    smtpd_health = st.health_port("ph-smtpd")
    pids = [st.pid("ph-queue", i) for i in (0, 1)]
    c = in_data(st)
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        r = wait_until(lambda: (lambda h: h if h[0] == 503 else None)(health(smtpd_health)),
                       15, "ph-smtpd to notice")
        assert r[1] == {"status": "not ready", "process": "ph-smtpd", "instance": 0,
                        "reason": "no queue shard answering"}, r
        # a transaction in progress: at its final dot
        c.sock.sendall(b".\r\n")
        assert c.reply() == NOT_READY
        assert c.at_eof()
        # new connections on every port: the greeting, then close
        for kind in ("relay", "submission", "tls"):
            assert smtp_attempt(st, kind, "lost") == "not-ready", kind
        r = wait_until(lambda: (lambda x: x if x[0] == 503 else None)(
            Env.api.call("POST", SUBMIT, submit_body("lost"))), 15, "ph-httpd to notice")
        assert r[1] == UNAVAILABLE, r
        assert int(r[2]["retry-after"]) >= 1 and r[2].get("opc-request-id"), r[2]
        r = Env.api.call("GET", "/health/ready", sign=False)
        assert r[:2] == (503, {"status": "not ready", "process": "ph-httpd", "instance": 0,
                               "reason": "no queue shard answering"}), r
        assert Env.api.call("GET", "/health/live", sign=False)[0] == 200
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    # back by itself: the first attempts may still meet the not-ready answer
    wait_until(lambda: smtp_attempt(st, "relay", "back-smtp") == "ok", 15, "SMTP back")
    wait_until(lambda: https_attempt(st, "back-https") == "ok", 15, "HTTPS back")
    assert health(smtpd_health)[0] == 200
    wait_until(lambda: {"back-smtp", "back-https"} <= set(Env.sink.header_values("Subject")),
               60, "the messages after the shards came back")


def cleanup():
    if Env.st is not None:
        Env.st.stop()
        Env.st.assert_clean_log()
    if Env.procs is not None:
        Env.procs.stop_all()


def run():
    try:
        run_tests([test_no_wrong_answer_while_starting, test_health_endpoints,
                   test_losing_every_queue_shard])
    finally:
        cleanup()


if __name__ == "__main__":
    run()
