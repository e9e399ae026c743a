#!/usr/bin/python3
"""Issue 5, queue side: bounces, hard-bounce suppressions, the header log
with its two-week retention, bodies only in transit.

A PySink (aiosmtpd) stands in for every *.test domain, the senders' too, so
bounce reports come back to it. Real processes throughout; the clock moves
only through PH_CLOCK_OFFSET_S, inherited by every process of a restarted
stack.
"""
import email
import email.policy
import email.utils
import glob
import os
import signal
import smtplib
import time
import subprocess
import uuid
from email.message import EmailMessage

from phtest import BIN, Procs, PySink, Stack, run_tests, wait_until

DAY = 86400
USER_UNKNOWN = "550 5.1.1 <%s>: Recipient address rejected: User unknown"
TRY_LATER = "451 4.3.0 try again later"


def message(tid, sender, rcpts, body="hello\r\n"):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = ", ".join(rcpts)
    m["Subject"] = "bounce test " + tid
    m["Message-ID"] = "<%s@source.test>" % tid
    m["Date"] = email.utils.formatdate()
    m.set_content(body)
    return m


def send(st, sender, rcpts, tid, body="hello\r\n"):
    with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=30) as c:
        refused = c.send_message(message(tid, sender, rcpts, body), sender, rcpts)
    assert refused == {}, refused


def with_stack(name, rules, fn, config="", **kw):
    procs = Procs()
    try:
        sink = PySink(procs, "/tmp", rules)
        with Stack(name, sink_port=sink.port, config=config, **kw) as st:
            st.start()
            fn(st, sink)
    finally:
        procs.stop_all()


def log_records(st, **filters):
    args = ["log"]
    for k, v in filters.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    return st.phctl(*args)


def test_hard_bounce_dsn_suppression():
    tid = uuid.uuid4().hex
    bad, good = "unknown-%s@dest.test" % tid[:8], "ok@dest.test"

    def body(st, sink):
        st.approve("alice@source.test")
        send(st, "alice@source.test", [bad, good], tid)

        # the DSN comes back to the sender, from the null sender
        def dsn():
            return [m for m in sink.messages() if m["mail_from"] == ""
                    and tid.encode() in m["data"]]
        got = wait_until(dsn, 60, "the bounce report at the sender's mailbox")
        assert len(got) == 1, "%d reports" % len(got)
        assert got[0]["rcpt_tos"] == ["alice@source.test"]
        rep = email.message_from_bytes(got[0]["data"], policy=email.policy.compat32)
        assert rep.get_content_type() == "multipart/report"
        assert rep.get_param("report-type") == "delivery-status"
        assert rep["From"].startswith("Mail Delivery System <MAILER-DAEMON@")
        parts = rep.get_payload()
        assert [p.get_content_type() for p in parts] == \
            ["text/plain", "message/delivery-status", "text/rfc822-headers"]
        blocks = parts[1].get_payload()     # per-message, then per-recipient
        assert blocks[0]["Reporting-MTA"].startswith("dns; ")
        assert blocks[0]["Arrival-Date"]
        assert len(blocks) == 2, "only the failed recipient is reported"
        r = blocks[1]
        assert r["Final-Recipient"] == "rfc822; " + bad
        assert r["Action"] == "failed"
        assert r["Status"] == "5.1.1"
        assert r["Diagnostic-Code"] == "smtp; " + USER_UNKNOWN % bad, r["Diagnostic-Code"]
        assert r["Remote-MTA"].startswith("dns; ")
        assert "Message-ID: <%s@source.test>" % tid in parts[2].get_payload()
        # the good recipient got the message once, the bad one never
        orig = [m for m in sink.messages() if m["mail_from"] == "alice@source.test"]
        assert [m["rcpt_tos"] for m in orig] == [[good]]

        # the hard bounce is a HARDBOUNCE suppression of the tenant
        def suppression():
            return [s for s in st.phctl("suppression", "list")
                    if s["address"] == bad]
        sup = wait_until(suppression, 30, "the HARDBOUNCE suppression")[0]
        assert sup["reason"] == "HARDBOUNCE"
        assert sup["error_detail"] == USER_UNKNOWN % bad
        assert sup["message_id"] == "<%s@source.test>" % tid
        tenant = [t for t in st.phctl("tenant", "list") if t["name"] == "default"][0]
        assert sup["tenant_id"] == tenant["id"]

        # the next submission to that address gets the seed's 254 reply
        want = "254 4.7.1 Suppression for user %s to %s" % (tenant["id"], bad)

        def rcpt_reply():
            with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=30) as c:
                c.ehlo("client.test")
                c.mail("alice@source.test")
                code, text = c.rcpt(bad)
                return "%d %s" % (code, text.decode())
        wait_until(lambda: rcpt_reply() == want, 20, "the 254 reply")
        assert rcpt_reply() == want

        # the header log shows both outcomes; the report has a record too
        rec = log_records(st, message_id="<%s@source.test>" % tid)
        assert len(rec) == 1
        outcomes = {r["address"]: r["outcome"] for r in rec[0]["rcpts"]}
        assert outcomes == {bad: "failed", good: "delivered"}, outcomes
        dsn_rec = log_records(st, sender="MAILER-DAEMON", recipient="alice@source.test")
        assert len(dsn_rec) == 1 and dsn_rec[0]["mail_from"] == ""
        assert dsn_rec[0]["source"] == "dsn"
        assert dsn_rec[0]["rcpts"][0]["outcome"] == "delivered"
    with_stack("bounce", {bad: [USER_UNKNOWN % bad]}, body)


def test_bounce_never_bounced():
    """The report to a sender whose own address is unknown fails too: that
    failure makes no report of its own (null sender) and no suppression."""
    tid = uuid.uuid4().hex
    sender, bad = "gone-%s@source.test" % tid[:8], "gone-%s@dest.test" % tid[:8]

    def body(st, sink):
        st.approve(sender)
        send(st, sender, [bad], tid)
        wait_until(lambda: any(a == sender for a, _ in sink.rcpt_log()), 30,
                   "the report's attempt at the sink")
        st.wait_drained(30)
        assert [a for a, _ in sink.rcpt_log()] == [bad, sender]
        assert sink.messages() == []
        dsn = log_records(st, recipient=sender)
        assert len(dsn) == 1 and dsn[0]["mail_from"] == "", dsn
        assert dsn[0]["rcpts"][0]["outcome"] == "failed"
        def addrs():
            return [s["address"] for s in st.phctl("suppression", "list")]
        wait_until(lambda: bad in addrs(), 20, "the first hard bounce's suppression")
        assert sender not in addrs()
    with_stack("bouncebounce", {bad: [USER_UNKNOWN % bad], sender: [USER_UNKNOWN % sender]},
               body)


def test_retry_then_delivered_header_log():
    slow = "slow@dest.test"

    def body(st, sink):
        tid = uuid.uuid4().hex
        st.approve("alice@source.test")
        send(st, "alice@source.test", [slow], tid)
        wait_until(lambda: any(slow in m["rcpt_tos"] for m in sink.messages()), 60,
                   "delivery on the third attempt")
        st.wait_drained(30)
        tried = [r for a, r in sink.rcpt_log() if a == slow]
        assert tried == [TRY_LATER, TRY_LATER, "250"], tried
        rec = log_records(st, message_id="<%s@source.test>" % tid)
        assert len(rec) == 1, rec
        r = rec[0]
        assert r["mail_from"] == "alice@source.test"
        assert r["to"] == slow and r["subject"] == "bounce test " + tid
        assert r["date"] and r["size"] > 0
        att = r["rcpts"][0]["attempts"]
        assert [a["outcome"] for a in att] == ["deferred", "deferred", "delivered"], att
        assert [a["reply"] for a in att[:2]] == [TRY_LATER, TRY_LATER]
        assert att[2]["reply"].startswith("250")
        assert all(a["remote_host"] for a in att)
        assert r["rcpts"][0]["outcome"] == "delivered"
        # the text form: the record, then one line per attempt
        p = subprocess.run([os.path.join(BIN, "phctl"), "--config", st.config_path, "log",
                            "--queue-id", r["queue_id"]], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[0].startswith("queue_id     %s  (queue-" % r["queue_id"]), lines
        assert "message_id   <%s@source.test>" % tid in lines
        assert "  rcpt <%s>  delivered %s" % (slow, att[2]["reply"]) in lines
        tries = [l for l in lines if l.startswith("    ")]
        assert len(tries) == 3 and TRY_LATER in tries[0] and " deferred " in tries[0], tries
    with_stack("retry", {slow: [TRY_LATER, TRY_LATER, "250"]}, body,
               config="[queue]\nretry_schedule = 1s,1s\n")


def queue_files_contain(st, needle):
    for path in glob.glob(os.path.join(st.data, "queue-*", "*")):
        with open(path, "rb") as f:
            if needle in f.read():
                return True
    return False


def test_body_gone_and_retention():
    def body(st, sink):
        tid = uuid.uuid4().hex
        secret = ("BODY-ONLY-IN-TRANSIT-%s" % tid).encode()
        st.approve("alice@source.test")
        send(st, "alice@source.test", ["r@dest.test"], tid,
             body=secret.decode() + "\r\n")
        wait_until(lambda: any(secret in m["data"] for m in sink.messages()), 60,
                   "the delivery")
        st.wait_drained(30)
        assert queue_files_contain(st, secret), "the body was never on disk?"
        st.phctl("queue", "compact")
        assert not queue_files_contain(st, secret), "body text left in the data dir"
        mid = "<%s@source.test>" % tid
        assert len(log_records(st, message_id=mid)) == 1
        assert queue_files_contain(st, mid.encode())
        for days, present in ((13, True), (15, False)):
            st.stop()
            os.environ["PH_CLOCK_OFFSET_S"] = str(days * DAY)
            try:
                st.start()
            finally:
                del os.environ["PH_CLOCK_OFFSET_S"]
            got = log_records(st, message_id=mid)
            assert len(got) == (1 if present else 0), "%d days: %r" % (days, got)
        # the compaction filter drops it from the disk too
        st.phctl("queue", "compact")
        assert not queue_files_contain(st, mid.encode()), "expired record still on disk"
    with_stack("retention", None, body)


def test_suppression_outlives_control_and_shard():
    """One shard. ph-control is stopped when the hard bounce happens; the
    shard is killed (-9) and restarted meanwhile, then the stopped ph-control is
    killed too, so every offer made so far is lost: the restarted shard
    must have loaded the pending suppression and offer it again until the
    restarted ph-control takes it."""
    tid = uuid.uuid4().hex
    bad = "gone-%s@dest.test" % tid[:8]

    def body(st, sink):
        st.approve("alice@source.test")
        control = st.pid("ph-control")
        os.kill(control, signal.SIGSTOP)
        try:
            send(st, "alice@source.test", [bad], tid)
            # the report is enqueued after the pending suppression's write
            wait_until(lambda: [m for m in sink.messages() if m["mail_from"] == ""
                                and tid.encode() in m["data"]],
                       60, "the bounce report")
            shard = st.pid("ph-queue")
            os.kill(shard, signal.SIGKILL)
            wait_until(lambda: st.pid("ph-queue") not in (None, shard), 30,
                       "the restarted shard")
            wait_until(lambda: st.log().count("suppressions pending") >= 2, 30,
                       "the restarted shard's recovery")
            assert "1 suppressions pending" in st.log()
            time.sleep(0.5)     # its first offer goes to the stopped ph-control
        finally:
            os.kill(control, signal.SIGKILL)
        wait_until(lambda: st.pid("ph-control") not in (None, control), 30,
                   "the restarted ph-control")

        def suppression():
            return [s for s in st.phctl("suppression", "list")
                    if s["address"] == bad]
        sup = wait_until(suppression, 60, "the HARDBOUNCE suppression")
        assert len(sup) == 1
        assert sup[0]["reason"] == "HARDBOUNCE"
        assert sup[0]["error_detail"] == USER_UNKNOWN % bad
        assert sup[0]["message_id"] == "<%s@source.test>" % tid
        assert "suppression HARDBOUNCE for <%s> added" % bad in st.log()
    with_stack("suppress-retry", {bad: [USER_UNKNOWN % bad]}, body, queues=1)


if __name__ == "__main__":
    run_tests([test_hard_bounce_dsn_suppression, test_bounce_never_bounced,
               test_retry_then_delivered_header_log, test_body_gone_and_retention,
               test_suppression_outlives_control_and_shard])
