#!/usr/bin/python3
"""Issue 2: the whole pipeline on real processes.

SMTP in (Python smtplib, Postfix's smtp-source) -> ph-smtpd -> ph-ratelimiter
-> ph-queue shards (RocksDB) -> ph-relay -> Postfix's smtp-sink; crash and
restart of a shard and of the relay under load; fail-over between shards; the
policy store encrypted at rest; bad input gets clean errors.
"""
import os
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage

from phtest import (Procs, SmtpSink, Stack, free_port, run_tests, smtp_source, wait_until)


def message(test_id, sender="alice@source.test", rcpt="bob@dest.test", body="hello\r\n"):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = rcpt
    m["Subject"] = "pipeline test " + test_id
    m["Message-ID"] = "<%s@source.test>" % test_id
    m["X-Test-Id"] = test_id
    m.set_content(body)
    return m


# trusted-network clients must use approved senders too (issue 3)
SENDERS = ("alice@source.test", "bench@source.test", "load@source.test", "a@source.test",
           "x@y.test")


def with_stack(name, fn, **kw):
    procs = Procs()
    try:
        sink = SmtpSink(procs, "/tmp")
        with Stack(name, sink_port=sink.port, **kw) as st:
            st.start()
            st.approve(*SENDERS)
            fn(st, sink)
    finally:
        procs.stop_all()


def test_smtplib_message_arrives():
    def body(st, sink):
        tid = uuid.uuid4().hex
        with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=30) as c:
            code, banner = c.ehlo("client.test")
            assert code == 250
            for ext in ("pipelining", "size", "8bitmime", "enhancedstatuscodes"):
                assert c.has_extn(ext), "EHLO lacks " + ext
            refused = c.send_message(message(tid, body="line one\r\n.leading dot\r\n"))
            assert refused == {}
        wait_until(lambda: tid in sink.header_values("X-Test-Id"), 30, "the message at the sink")
        raw = [m for m in sink.messages() if tid.encode() in m][0]
        assert b"\n..leading dot" not in raw and b"\n.leading dot" in raw, "dot-stuffing broken"
        assert b"Received: from client.test" in raw, "no Received header added"
        st.wait_drained(30)
    with_stack("smtplib", body)


def test_smtp_source_2000_each_once():
    def body(st, sink):
        r = smtp_source(st.smtp_port, 2000, sessions=20, size=1024)
        assert r.returncode == 0, r.stdout + r.stderr
        wait_until(lambda: len(sink.files()) >= 2000, 180, "2000 messages at the sink",
                   interval=0.5)
        st.wait_drained(60)
        time.sleep(1)
        ids = sink.header_values("Message-Id")
        assert len(sink.files()) == 2000, "sink got %d messages" % len(sink.files())
        assert len(set(ids)) == 2000, "%d distinct Message-Ids" % len(set(ids))
    with_stack("source2000", body)


class Submitter(threading.Thread):
    """Sends COUNT messages with unique X-Test-Id headers, one connection each
    few messages, and records which ones got a 250 after DATA."""

    def __init__(self, port, count):
        super().__init__(daemon=True)
        self.port, self.count = port, count
        self.accepted, self.refused = [], []

    def run(self):
        c = None
        for _ in range(self.count):
            tid = uuid.uuid4().hex
            try:
                if c is None:
                    c = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
                    c.ehlo("crash.test")
                c.send_message(message(tid))
                self.accepted.append(tid)
            except (smtplib.SMTPException, OSError):
                self.refused.append(tid)
                try:
                    if c is not None:
                        c.close()
                except OSError:
                    pass
                c = None
                time.sleep(0.05)
        if c is not None:
            try:
                c.quit()
            except (smtplib.SMTPException, OSError):
                pass


def test_crash_queue_and_relay_under_load():
    def body(st, sink):
        load = subprocess.Popen(["smtp-source", "-s", "10", "-m", "3000", "-l", "1024", "-d",
                                 "-f", "load@source.test", "-t", "load@dest.test",
                                 "127.0.0.1:%d" % st.smtp_port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subs = [Submitter(st.smtp_port, 150) for _ in range(4)]
        try:
            for s in subs:
                s.start()
            time.sleep(1.0)
            for name in ("ph-queue", "ph-relay"):
                old = st.pid(name, 0)
                assert old, "no pid for " + name
                os.kill(old, signal.SIGKILL)
                wait_until(lambda: st.pid(name, 0) not in (None, old), 30,
                           name + " to be restarted")
                time.sleep(1.0)
            for s in subs:
                s.join(300)
        finally:
            try:
                load.wait(300)
            except subprocess.TimeoutExpired:
                load.kill()
                load.wait()
        accepted = [t for s in subs for t in s.accepted]
        refused = [t for s in subs for t in s.refused]
        print("crash test: %d accepted, %d refused by the submitters" % (len(accepted), len(refused)))
        assert len(accepted) > 300, "too few messages accepted around the crashes"
        st.wait_drained(240)
        time.sleep(1)
        arrived = set(sink.header_values("X-Test-Id"))
        lost = [t for t in accepted if t not in arrived]
        assert not lost, "%d messages got a 250 and never arrived, e.g. %s" % (len(lost), lost[:3])
    with_stack("crash", body, config="[queue]\nlease = 10s\n[relay]\ncommand_timeout = 20s\n")


def test_shard_failover_when_one_hangs():
    def body(st, sink):
        frozen = st.pid("ph-queue", 1)
        os.kill(frozen, signal.SIGSTOP)
        try:
            ids = []
            with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=60) as c:
                for _ in range(6):
                    tid = uuid.uuid4().hex
                    c.send_message(message(tid))
                    ids.append(tid)
        finally:
            os.kill(frozen, signal.SIGCONT)
        wait_until(lambda: set(ids) <= set(sink.header_values("X-Test-Id")), 60,
                   "the messages at the sink")
    with_stack("failover", body)


def test_policy_encrypted_at_rest():
    def body(st, sink):
        secret_sender = "hidden-sender-%s@secret.test" % uuid.uuid4().hex[:8]
        st.phctl("sender", "add", "default", secret_sender)
        user = st.phctl("user", "add", "default", "grep-user")
        uid = user["id"] if isinstance(user, dict) and "id" in user else user[0]["id"]
        cred = st.phctl("credential", "create", uid)
        listed = st.phctl("sender", "list", "default")
        assert secret_sender in str(listed)
        needles = [secret_sender.encode(), cred["username"].encode(), cred["password"].encode()]
        subprocess.run(["sync"])
        # stop the stack so every RocksDB file is flushed, then grep everything
        st.stop()
        hits = []
        for root, _, files in os.walk(st.data):
            for f in files:
                path = os.path.join(root, f)
                try:
                    with open(path, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue
                hits += ["%s in %s" % (n.decode(), path) for n in needles if n in data]
        assert not hits, "clear text found: %s" % hits
        key = os.path.join(st.data, "control", "master.key")
        assert os.stat(key).st_mode & 0o777 == 0o600, "key file mode"
    with_stack("atrest", body)


def smtp_dialog(port, lines, timeout=10):
    """Send raw LINES (bytes, CRLF added) one by one; return the last line of
    the banner and of each reply."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    f = s.makefile("rb")

    def reply():
        while True:
            r = f.readline().decode().rstrip()
            if len(r) < 4 or r[3] != "-":
                return r
    out = [reply()]
    for line in lines:
        s.sendall(line + b"\r\n")
        out.append(reply())
    s.close()
    return out


def test_bad_input_clean_errors():
    def body(st, sink):
        pids = {n: st.pid(n) for n in ("ph-smtpd", "ph-queue")}
        r = smtp_dialog(st.smtp_port, [b"EHLO x.test", b"FOO bar", b"DATA",
                                       b"MAIL FROM:<not an address>", b"MAIL FROM:<a@source.test>",
                                       b"RCPT TO:<bad@@x>", b"DATA", b"QUIT"])
        assert r[2].startswith("500 5.5."), r
        assert r[3] == "503 Need RCPT command", r
        assert r[4] == "553 <not an address> Invalid email address", r
        assert r[5].startswith("250 "), r
        assert r[6] == "553 <bad@@x> Invalid email address", r
        assert r[7] == "503 Need RCPT command", r
        # hostile bytes: NUL, a 100 KB line, bare LF, pipelined junk
        s = socket.create_connection(("127.0.0.1", st.smtp_port), timeout=10)
        s.recv(1000)
        s.sendall(b"EHLO \x00\x01\xff\r\n" + b"A" * 100000 + b"\r\nNOOP\nRSET\r\n" +
                  b"MAIL FROM:<x@y.test> SIZE=999999999999\r\n" * 3 + b"\r\n\r\nQUIT\r\n")
        time.sleep(0.5)
        s.close()
        # a client that half-closes in the middle of DATA
        s = socket.create_connection(("127.0.0.1", st.smtp_port), timeout=10)
        s.recv(1000)
        s.sendall(b"HELO x\r\nMAIL FROM:<a@source.test>\r\nRCPT TO:<b@dest.test>\r\nDATA\r\n"
                  b"Subject: half\r\n\r\npartial")
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
        s.close()
        time.sleep(0.5)
        for n, p in pids.items():
            assert st.pid(n) == p, n + " was restarted: it crashed"
        with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=30) as c:
            assert c.noop()[0] == 250
    with_stack("badinput", body)


def test_supervisor_restarts_a_dead_frontend():
    def body(st, sink):
        old = st.pid("ph-smtpd")
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: st.pid("ph-smtpd") not in (None, old), 30, "ph-smtpd restarted")
        tid = uuid.uuid4().hex

        def send():
            try:
                with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=10) as c:
                    c.send_message(message(tid))
                return True
            except OSError:
                return False
        wait_until(send, 30, "a message accepted after the restart", interval=0.3)
        wait_until(lambda: tid in sink.header_values("X-Test-Id"), 30, "the message at the sink")
    with_stack("restart", body)


def test_tcp_endpoints_like_a_cluster():
    """The cluster config's shape: tcp:// endpoints named by host name."""
    def body(st, sink):
        tid = uuid.uuid4().hex
        with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=30) as c:
            c.send_message(message(tid))
        wait_until(lambda: tid in sink.header_values("X-Test-Id"), 30, "the message at the sink")
        st.wait_drained(30)
    with_stack("tcp", body, tcp=True)


def test_pipelined_transactions_survive_refused_data():
    """The relay pipelines the next message's MAIL/RCPT/DATA after each dot;
    a refused dot (4xx from smtp-sink -r .) must defer that message only, and
    every message still arrives once the sink accepts."""
    procs = Procs()
    try:
        port, work = free_port(), tempfile.mkdtemp(prefix="ph-refused-")
        os.chmod(work, 0o755)   # smtp-sink writes as nobody
        SmtpSink(procs, os.path.join(work, "refusing"), port=port, extra=("-r", "."))
        with Stack("refuseddot", sink_port=port,
                   config="[queue]\nretry_schedule = 2s\n") as st:
            st.start()
            st.approve("bench@source.test")
            r = smtp_source(st.smtp_port, 200, sessions=5, size=1024)
            assert r.returncode == 0, r.stdout + r.stderr
            wait_until(lambda: st.queue_totals()["deferred_total"] >= 200, 60,
                       "every message deferred once")
            procs.stop_all()        # the refusing sink goes; an accepting one comes
            procs = Procs()
            sink = SmtpSink(procs, os.path.join(work, "accepting"), port=port)
            st.wait_drained(120)
            time.sleep(1)
            ids = sink.header_values("Message-Id")
            assert len(ids) == 200 and len(set(ids)) == 200, "%d arrived" % len(ids)
    finally:
        procs.stop_all()


if __name__ == "__main__":
    run_tests([test_smtplib_message_arrives, test_bad_input_clean_errors,
               test_supervisor_restarts_a_dead_frontend, test_shard_failover_when_one_hangs,
               test_policy_encrypted_at_rest, test_smtp_source_2000_each_once,
               test_crash_queue_and_relay_under_load, test_tcp_endpoints_like_a_cluster,
               test_pipelined_transactions_survive_refused_data])
