#!/usr/bin/python3
"""Issue 5, relay side: TLS policies (may / encrypt / verify) with the TLS
version and cipher recorded, MX routing against a local DNS server (dnsmasq),
connection reuse, and the back-off of a destination that answers 421.

Real peers only: aiosmtpd with STARTTLS and certificates made here with
openssl (PeerSink), Postfix's smtp-sink without STARTTLS, dnsmasq. MX peers
share [relay] mx_port on different loopback addresses (127.0.0.0/8 is all
loopback on Linux).
"""
import email.utils
import json
import os
import re
import smtplib
import time
import uuid
from email.message import EmailMessage

from phtest import (Dnsmasq, PeerSink, Procs, SmtpSink, Stack, free_port,
                    make_ca, make_cert, run_tests, smtp_source, wait_until)

SENDER = "alice@source.test"
WORK = "/tmp"


def send(st, rcpt, tid, sender=SENDER):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = rcpt
    m["Subject"] = "relay test " + tid
    m["Message-ID"] = "<%s@source.test>" % tid
    m["Date"] = email.utils.formatdate()
    m["X-Test-Id"] = tid
    m.set_content("hello\r\n")
    with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=30) as c:
        assert c.send_message(m, sender, [rcpt]) == {}


def relayed(st, rcpt):
    """RCPT's relayed records; a line the relay is still writing is skipped
    (event_records would raise on it)."""
    out = []
    path = os.path.join(st.data, "log", "relayed.log")
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            r = r.get("data", r)
            if r.get("recipient") == rcpt:
                out.append(r)
    return out


def wait_relayed(st, rcpt, action, timeout=30):
    def got():
        return [r for r in relayed(st, rcpt) if r["action"] == action]
    return wait_until(got, timeout, "a relayed record %s for %s" % (action, rcpt))


def run_stack(name, config, fn):
    with Stack(name, config=config) as st:
        st.start()
        st.approve(SENDER, "bench@source.test")
        fn(st)


# ---- TLS policies over static routes ----

def test_tls_may_encrypt_and_reuse():
    """(a) STARTTLS peer: TLSv1.2/1.3 and the cipher in the relayed log and
    the header log; (b) smtp-sink without STARTTLS: plain text; (c) encrypt
    towards smtp-sink: deferred with Postfix's reply, never sent plain;
    encrypt towards the TLS peer: delivered; (f) 2000 messages from
    smtp-source to one domain over few connections."""
    procs = Procs()
    try:
        ca = make_ca(WORK, "tls-" + uuid.uuid4().hex[:6])
        tls = PeerSink(procs, WORK, cert=make_cert(WORK, ca, "mx.tls.test"))
        plain = SmtpSink(procs, WORK)
        bulk = PeerSink(procs, WORK)
        broken = PeerSink(procs, WORK, cert=make_cert(WORK, ca, "mx.broken.test"),
                          broken_tls=True)
        cfg = """[relay]
routes = t.test=127.0.0.1:{t}, te.test=127.0.0.1:{t}, p.test=127.0.0.1:{p}, pe.test=127.0.0.1:{p}, dest.test=127.0.0.1:{b}, x.test=127.0.0.1:{x}, xe.test=127.0.0.1:{x}
tls_policy = pe.test=encrypt, te.test=encrypt, xe.test=encrypt
max_connections_per_destination = 10
[queue]
retry_schedule = 2s
""".format(t=tls.port, p=plain.port, b=bulk.port, x=broken.port)

        def body(st):
            tid = uuid.uuid4().hex
            send(st, "bob@t.test", tid)
            send(st, "carol@p.test", tid)
            send(st, "dave@pe.test", tid)
            send(st, "erin@te.test", tid)
            send(st, "frank@x.test", tid)
            send(st, "gina@xe.test", tid)
            r = wait_relayed(st, "bob@t.test", "relay")[0]
            assert r["tlsVersion"] in ("TLSv1.2", "TLSv1.3"), r
            got = [m for m in tls.messages() if m["rcpt_tos"] == ["bob@t.test"]]
            assert len(got) == 1 and r["tlsCipher"] == got[0]["tls_cipher"], (r, got)
            assert r["tlsVersion"] == got[0]["tls_version"], (r, got)
            assert r["smtpStatus"] == "250 2.0.0 Ok: queued", r
            assert r["recipientMailServer"] == "127.0.0.1 (127.0.0.1)", r
            assert r["dkimSelector"] == "", r
            hl = st.phctl("log", "--recipient", "bob@t.test")
            att = hl[0]["rcpts"][0]["attempts"][-1]
            assert att["tls_version"] == r["tlsVersion"], hl
            assert att["tls_cipher"] == r["tlsCipher"], hl

            r = wait_relayed(st, "carol@p.test", "relay")[0]
            assert r["tlsVersion"] == "" and r["tlsCipher"] == "", r
            # smtp-sink may write its dump file just after its 250
            wait_until(lambda: plain.files(), 10, "carol's message in smtp-sink's dump")
            assert len(plain.files()) == 1, plain.files()

            r = wait_relayed(st, "erin@te.test", "relay")[0]
            assert r["tlsVersion"] in ("TLSv1.2", "TLSv1.3") and r["tlsCipher"], r

            # a failed handshake under "may": once more in plain text, logged
            r = wait_relayed(st, "frank@x.test", "relay")[0]
            assert r["tlsVersion"] == "" and r["tlsCipher"] == "", r
            got = [(m["rcpt_tos"], m["tls_version"]) for m in broken.messages()]
            assert got == [(["frank@x.test"], "")], got
            assert re.search(r"relay \[127\.0\.0\.1\]:%d: TLS handshake with 127\.0\.0\.1"
                             r"\[127\.0\.0\.1\] failed: .*; retrying without TLS"
                             % broken.port, st.log()), "plain-text retry not logged"
            # ... and never under "encrypt"
            r = wait_relayed(st, "gina@xe.test", "defer")[0]
            assert r["smtpStatus"].startswith("4.7.5 TLS handshake with 127.0.0.1[127.0.0.1] "
                                              "failed: "), r
            got = [(m["rcpt_tos"], m["tls_version"]) for m in broken.messages()]
            assert got == [(["frank@x.test"], "")], got

            d = wait_relayed(st, "dave@pe.test", "defer")
            assert d[0]["smtpStatus"] == ("4.7.4 TLS is required, but was not offered by "
                                          "host 127.0.0.1[127.0.0.1]"), d[0]
            assert "errorType" not in d[0], d[0]
            time.sleep(2.5)   # a retry: deferred again, still never plain
            assert len(plain.files()) == 1, "encrypt policy sent in plain text"
            assert st.queue_totals()["messages"] >= 1, st.queue_totals()
            hl = st.phctl("log", "--recipient", "dave@pe.test")
            assert hl[0]["rcpts"][0]["outcome"] == "pending", hl
            assert hl[0]["rcpts"][0]["attempts"][0]["reply"].startswith("4.7.4 TLS is required"), hl

            # (f) one delivery connection carries many messages
            before = len(bulk.connections())
            res = smtp_source(st.smtp_port, 2000, sessions=10, size=512, rcpt="bulk@dest.test")
            assert res.returncode == 0, res.stdout + res.stderr
            wait_until(lambda: len(bulk.messages()) >= 2000, 150, "2000 messages at the peer",
                       interval=0.5)
            conns = len(bulk.connections()) - before
            assert 1 <= conns <= 10 + 5, "%d connections for 2000 messages" % conns
            print("  2000 messages over %d connections" % conns)
        run_stack("relay-tls", cfg, body)
    finally:
        procs.stop_all()


# ---- MX routing and verify, against dnsmasq ----

def test_mx_routing_and_verify():
    """(e) preference order, fallback past a refused MX, null MX and
    NXDOMAIN failing (with a DSN); answers cached for their TTL; (d) verify: the trusted CA and the MX
    name -> delivered; an untrusted CA or another host name -> deferred."""
    procs = Procs()
    try:
        port = free_port()
        good_ca = make_ca(WORK, "good-" + uuid.uuid4().hex[:6])
        bad_ca = make_ca(WORK, "bad-" + uuid.uuid4().hex[:6])
        mx1 = PeerSink(procs, WORK, host="127.0.0.2", port=port)
        mx2 = PeerSink(procs, WORK, host="127.0.0.3", port=port)
        vok = PeerSink(procs, WORK, host="127.0.0.5", port=port,
                       cert=make_cert(WORK, good_ca, "mx.verify-ok.test"))
        vbad = PeerSink(procs, WORK, host="127.0.0.6", port=port,
                        cert=make_cert(WORK, bad_ca, "mx.verify-bad.test"))
        records = [
            "local=/test/", "local-ttl=4",
            "mx-host=ttl.test,mx1.pref.test,10",
            "mx-host=pref.test,mx2.pref.test,20", "mx-host=pref.test,mx1.pref.test,10",
            "host-record=mx1.pref.test,127.0.0.2", "host-record=mx2.pref.test,127.0.0.3",
            "mx-host=fallback.test,dead.fallback.test,10",
            "mx-host=fallback.test,live.fallback.test,20",
            "host-record=dead.fallback.test,127.0.0.4",
            "host-record=live.fallback.test,127.0.0.3",
            "mx-host=source.test,mx.source.test,10", "host-record=mx.source.test,127.0.0.3",
            "mx-host=nullmx.test,.,0",
            "mx-host=verify-ok.test,mx.verify-ok.test,10",
            "host-record=mx.verify-ok.test,127.0.0.5",
            "mx-host=verify-bad.test,mx.verify-bad.test,10",
            "host-record=mx.verify-bad.test,127.0.0.6",
            "mx-host=verify-name.test,other.verify-name.test,10",
            "host-record=other.verify-name.test,127.0.0.5",
        ]
        dns = Dnsmasq(procs, WORK, records)
        cfg = """[relay]
dns_servers = {dns}
dns_timeout = 1s
mx_port = {port}
tls_policy = *.test=may, verify-ok.test=verify, verify-bad.test=verify, verify-name.test=verify
tls_ca_file = {ca}
[queue]
retry_schedule = 30s
""".format(dns=dns.server, port=port, ca=good_ca[0])

        def body(st):
            tid = uuid.uuid4().hex
            for rcpt in ("a@pref.test", "b@fallback.test", "c@nullmx.test", "d@nx.test",
                         "e@verify-ok.test", "f@verify-bad.test", "g@verify-name.test"):
                send(st, rcpt, tid)
            r = wait_relayed(st, "a@pref.test", "relay")[0]
            assert r["recipientMailServer"] == "mx1.pref.test (127.0.0.2)", r
            assert [m["rcpt_tos"] for m in mx1.messages()] == [["a@pref.test"]]

            r = wait_relayed(st, "b@fallback.test", "relay")[0]
            assert r["recipientMailServer"] == "live.fallback.test (127.0.0.3)", r

            r = wait_relayed(st, "c@nullmx.test", "bounce")[0]
            assert r["smtpStatus"] == "5.4.4 Domain nullmx.test does not accept mail (nullMX)", r
            assert (r["errorType"], r["bounceCategory"], r["bounceCode"]) == \
                ("hard", "bad-domain", "5.4.4"), r
            r = wait_relayed(st, "d@nx.test", "bounce")[0]
            assert r["smtpStatus"] == ("5.4.4 Host or domain name not found. Name service "
                                       "error for name=nx.test type=MX: Host not found"), r
            assert r["errorType"] == "hard" and r["bounceCode"] == "5.4.4", r

            # the DSNs go to the sender's MX (mx2), from the null sender
            def dsns():
                return [m for m in mx2.messages() if m["mail_from"] in ("", "<>")
                        and tid.encode() in m["data"]]
            got = wait_until(lambda: len(dsns()) >= 2 and dsns(), 30, "two DSNs")
            assert all(m["rcpt_tos"] == [SENDER] for m in got), got
            text = b"".join(m["data"] for m in got)
            assert b"c@nullmx.test" in text and b"d@nx.test" in text

            r = wait_relayed(st, "e@verify-ok.test", "relay")[0]
            assert r["tlsVersion"] in ("TLSv1.2", "TLSv1.3"), r
            assert r["recipientMailServer"] == "mx.verify-ok.test (127.0.0.5)", r
            r = wait_relayed(st, "f@verify-bad.test", "defer")[0]
            assert r["smtpStatus"].startswith("4.7.5 TLS handshake with mx.verify-bad.test"
                                              "[127.0.0.6] failed: Server certificate not "
                                              "verified: unable to get local issuer"), r
            r = wait_relayed(st, "g@verify-name.test", "defer")[0]
            assert r["smtpStatus"].startswith("4.7.5 TLS handshake with other.verify-name.test"
                                              "[127.0.0.5] failed: Server certificate not "
                                              "verified: hostname mismatch"), r
            assert not vbad.messages(), "verify-bad delivered"
            assert [m["rcpt_tos"] for m in vok.messages()] == [["e@verify-ok.test"]]
            assert all(m["tls_version"] for m in vok.messages())

            # the cache honours the TTL (4s): a changed MX is seen only after it
            send(st, "t1@ttl.test", tid)
            t1 = time.time()
            assert wait_relayed(st, "t1@ttl.test", "relay")[0]["recipientMailServer"] == \
                "mx1.pref.test (127.0.0.2)"
            dns.set_records([l.replace("ttl.test,mx1.pref.test", "ttl.test,mx2.pref.test")
                             for l in records])
            send(st, "t2@ttl.test", tid)
            assert wait_relayed(st, "t2@ttl.test", "relay")[0]["recipientMailServer"] == \
                "mx1.pref.test (127.0.0.2)", "TTL not honoured (re-resolved too early)"
            assert time.time() - t1 < 3.5, "too slow to test the cache"
            time.sleep(max(0, t1 + 5 - time.time()))
            send(st, "t3@ttl.test", tid)
            assert wait_relayed(st, "t3@ttl.test", "relay")[0]["recipientMailServer"] == \
                "mx2.pref.test (127.0.0.3)", "stale MX used after its TTL"
        run_stack("relay-mx", cfg, body)
    finally:
        procs.stop_all()


# ---- back-off ----

def test_backoff_421_then_delivered():
    """(g) a peer answering 421 to every MAIL: the destination's connections
    slow down (back-off 1s, 2s, 4s, 4s...) while the queue retries every
    second (those tasks are deferred at once, "delivery temporarily
    suspended"); once the peer answers 250 the mail is delivered."""
    procs = Procs()
    try:
        peer = PeerSink(procs, WORK)
        peer.set_reply("421 4.3.2 Service shutting down")
        cfg = """[relay]
routes = slow.test=127.0.0.1:{p}
destination_backoff_min = 1s
destination_backoff_max = 4s
[queue]
retry_schedule = 1s
""".format(p=peer.port)

        def body(st):
            base = len(peer.connections())
            tid = uuid.uuid4().hex
            for i in range(3):
                send(st, "r%d@slow.test" % i, tid)
            t0 = time.time()
            wait_relayed(st, "r0@slow.test", "defer")
            time.sleep(12)
            conns = [c["t"] for c in peer.connections()[base:]]
            attempts = sum(len(relayed(st, "r%d@slow.test" % i)) for i in range(3))
            suspended = [r for i in range(3) for r in relayed(st, "r%d@slow.test" % i)
                         if "delivery temporarily suspended: 421 4.3.2 Service shutting down"
                         in r["smtpStatus"]]
            gaps = [b - a for a, b in zip(conns, conns[1:])]
            print("  %d attempts, %d connections in %.0fs, gaps %s" % (
                attempts, len(conns), time.time() - t0, ["%.1f" % g for g in gaps]))
            # without a back-off every retry of every task would connect (~30)
            assert len(conns) <= 8, conns
            assert len(suspended) >= 10 and attempts >= 2 * len(conns), (attempts, len(conns))
            assert max(gaps) >= 3.5, gaps
            assert all(r["smtpStatus"].startswith(("421 4.3.2", "4.4.1 delivery temporarily"))
                       for i in range(3) for r in relayed(st, "r%d@slow.test" % i))
            peer.set_reply(None)
            for i in range(3):
                wait_relayed(st, "r%d@slow.test" % i, "relay", timeout=20)
            assert sorted(m["rcpt_tos"][0] for m in peer.messages()) == \
                ["r0@slow.test", "r1@slow.test", "r2@slow.test"]
        run_stack("relay-backoff", cfg, body)
    finally:
        procs.stop_all()


if __name__ == "__main__":
    run_tests([test_tls_may_encrypt_and_reuse, test_mx_routing_and_verify,
               test_backoff_421_then_delivered])
