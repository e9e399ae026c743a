#!/usr/bin/python3
"""Issue 5, DKIM: email domains and keys in the policy store, the DNS check
against a real DNS server (dnsmasq on loopback), the wrong-zone mistake
reported with its fix, NEEDS_ATTENTION -> ACTIVE when the CNAME appears, and
messages signed by ph-smtpd (rsa-sha256 with a generated key, ed25519-sha256
with an imported one) that python3-dkim verifies against the key published
in that DNS server, and "451 Error in Processing" when signing fails (the
test-only fault PH_FAULTS=dkim_sign, common/fault.h: a key in the replica is
always one ph-control parsed and re-exported, so nothing from outside makes
signing fail).
"""
import email
import os
import re
import smtplib
import subprocess
import uuid
from email.message import EmailMessage

import dkim
import dns.message
import dns.query

from phtest import (BIN, Dnsmasq, Procs, RawSmtp, SmtpSink, Stack, event_records,
                    run_tests, txt_record_line, wait_until)

DOMAIN = "signed.test"
ZONE = "dkim.posthaste.localdomain"
PHCTL = os.path.join(BIN, "phctl")


def resolve_txt(dnsmasq):
    """A dkimpy dnsfunc that asks our dnsmasq (the CNAME is followed there)."""
    def dnsfunc(name, timeout=5):
        q = dns.message.make_query(name.decode().rstrip("."), "TXT")
        # a 2048-bit key does not fit 512 bytes: the answer comes truncated
        r, _ = dns.query.udp_with_fallback(q, "127.0.0.1", port=dnsmasq.port,
                                           timeout=timeout)
        for rrset in r.answer:
            for rd in rrset:
                if rd.rdtype == 16:
                    return b"".join(rd.strings)
        return None
    return dnsfunc


def with_dkim_stack(name, fn, interval="1s", env=None):
    procs = Procs()
    try:
        sink = SmtpSink(procs, "/tmp")
        dnsm = Dnsmasq(procs, "/tmp")
        cfg = "[dkim]\ncheck_interval = %s\ndns_servers = %s\ndns_timeout = 500ms\n" % (
            interval, dnsm.server)
        with Stack(name, sink_port=sink.port, config=cfg) as st:
            st.start(env=env)
            fn(st, sink, dnsm)
    finally:
        procs.stop_all()


def add_key(st, selector, *extra):
    d = st.phctl("domain", "add", "default", DOMAIN)
    k = st.phctl("dkim", "add", DOMAIN, selector, *extra)
    assert k["selector"] == selector and k["domain"] == DOMAIN, k
    assert "private_key_pem" not in k or not k["private_key_pem"], "private key shown"
    return d, k


def key_state(st, kid):
    return st.phctl("dkim", "show", kid)


def wait_state(st, kid, state, timeout=20):
    return wait_until(lambda: (lambda k: k if k["lifecycle_state"] == state else None)(
        key_state(st, kid)), timeout, "dkim %s to be %s" % (kid, state), interval=0.2)


def publish_right(dnsm, k, extra=()):
    dnsm.set_records(["cname=%s,%s" % (k["cname_record_name"], k["cname_record_value"]),
                      txt_record_line(k["cname_record_value"], k["txt_record_value"]),
                      *extra])


def test_records_and_needs_attention():
    def body(st, sink, dnsm):
        d, k = add_key(st, "s1")
        assert k["cname_record_name"] == "s1._domainkey." + DOMAIN, k
        assert k["cname_record_value"] == "s1.%s.%s" % (DOMAIN, ZONE), k
        assert k["txt_record_value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN"), k
        k = wait_state(st, k["id"], "NEEDS_ATTENTION")
        assert k["check_detail"] == ("no CNAME at s1._domainkey.signed.test: publish "
                                     "s1._domainkey.signed.test. CNAME "
                                     "s1.signed.test.dkim.posthaste.localdomain."), k
        text = subprocess.run([PHCTL, "--config", st.config_path, "dkim", "show",
                               k["id"]], capture_output=True, text=True).stdout
        assert ("  s1._domainkey.signed.test.  CNAME  "
                "s1.signed.test.dkim.posthaste.localdomain.") in text, text
        assert 'TXT  "v=DKIM1; k=rsa; p=' in text, text
        # the second selector is fine, a third is over the service's limit
        st.phctl("dkim", "add", DOMAIN, "s2")
        r = st.phctl("dkim", "add", DOMAIN, "s3", check=False)
        assert r is None
        # deleting the domain takes its keys with it
        st.phctl("domain", "del", d["id"])
        assert st.phctl("dkim", "list") == []
    with_dkim_stack("dkim-records", body)


def test_wrong_zone_reported_then_active():
    def body(st, sink, dnsm):
        d, k = add_key(st, "s1")
        wait_state(st, k["id"], "NEEDS_ATTENTION")
        # the full name pasted into a zone-relative UI: the zone got appended
        dnsm.set_records(["cname=%s.%s,%s" % (k["cname_record_name"], DOMAIN,
                                              k["cname_record_value"]),
                          txt_record_line(k["cname_record_value"], k["txt_record_value"])])
        k2 = st.phctl("dkim", "check", k["id"])
        assert k2["lifecycle_state"] == "NEEDS_ATTENTION", k2
        assert k2["check_detail"] == (
            "the record was found at s1._domainkey.signed.test.signed.test: the name was "
            "entered with the zone signed.test appended. Enter it relative to the zone as "
            "s1._domainkey (or in full with a trailing dot: s1._domainkey.signed.test.) as "
            "a CNAME to s1.signed.test.dkim.posthaste.localdomain."), k2
        # a TXT published directly instead of the CNAME
        dnsm.set_records([txt_record_line(k["cname_record_name"], k["txt_record_value"])])
        k3 = st.phctl("dkim", "check", k["id"])
        assert k3["check_detail"].startswith(
            "a DKIM TXT record is published at s1._domainkey.signed.test instead of the "
            "CNAME"), k3
        # right at last: ACTIVE within the check interval, and the domain's key
        publish_right(dnsm, k)
        k4 = wait_state(st, k["id"], "ACTIVE", timeout=10)
        assert k4["check_detail"].startswith("CNAME s1._domainkey.signed.test -> "), k4
        doms = st.phctl("domain", "list", "default")
        assert [x["active_dkim_id"] for x in doms if x["name"] == DOMAIN] == [k["id"]], doms
    with_dkim_stack("dkim-zone", body)


def signed_message(tid):
    m = EmailMessage()
    m["From"] = "alice@" + DOMAIN
    m["To"] = "bob@dest.test"
    m["Subject"] = "dkim test " + tid
    m["Message-ID"] = "<%s@%s>" % (tid, DOMAIN)
    m["X-Test-Id"] = tid
    m.set_content("signed body\r\n.leading dot\r\n")
    return m


def send_signed(st, sink, dnsm, k):
    """Make key K ACTIVE, send a message from DOMAIN through ph-smtpd; the
    raw message at the sink (verified by python3-dkim) and its signature."""
    publish_right(dnsm, k)
    wait_state(st, k["id"], "ACTIVE", timeout=10)
    tid = uuid.uuid4().hex
    # the replicas follow PolicyChanged; a message right after may race it
    wait_until(lambda: "ACTIVE" in st.log(), 10, "the key in the log")
    with smtplib.SMTP("127.0.0.1", st.smtp_port, timeout=30) as c:
        assert c.send_message(signed_message(tid)) == {}
    wait_until(lambda: tid in sink.header_values("X-Test-Id"), 30, "the message at the sink")
    raw = [m for m in sink.messages() if tid.encode() in m][0]
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    sigs = [re.sub(r"\r?\n[ \t]", " ", v) for v in
            email.message_from_bytes(raw).get_all("DKIM-Signature", [])]
    sigs = [v for v in sigs if "s=%s;" % k["selector"] in v]
    assert len(sigs) == 1, sigs
    assert dkim.verify(raw, dnsfunc=resolve_txt(dnsm)), "python3-dkim does not verify"
    # and no longer once the body changed
    assert not dkim.verify(raw.replace(b"signed body", b"signed bodY"),
                           dnsfunc=resolve_txt(dnsm)), "a changed body verifies"
    return tid, sigs[0]


def test_signed_message_verifies():
    def body(st, sink, dnsm):
        st.phctl("sender", "add", "default", "@" + DOMAIN)
        d, k = add_key(st, "sel1")
        tid, sig = send_signed(st, sink, dnsm, k)
        assert "a=rsa-sha256;" in sig and "c=relaxed/relaxed;" in sig, sig
        st.wait_drained(30)
        # the header log keeps the selector used (JSON field names of phctl log)
        recs = st.phctl("log", "--sender", "alice@" + DOMAIN)
        assert [r.get("dkim_selector") for r in recs] == ["sel1"], recs
        # and the relayed log, once the relay writes dkimSelector
        for r in event_records(st.data, "relayed"):
            if tid in str(r) and "dkimSelector" in str(r):
                assert "sel1" in str(r), r
    with_dkim_stack("dkim-sign", body)


def test_ed25519_signed_message_verifies():
    def body(st, sink, dnsm):
        st.phctl("sender", "add", "default", "@" + DOMAIN)
        st.phctl("domain", "add", "default", DOMAIN)
        pem = "/tmp/dkim-test-ed-%s.pem" % uuid.uuid4().hex
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", pem], check=True)
        try:
            k = st.phctl("dkim", "add", DOMAIN, "ed1", "--key-file", pem)
        finally:
            os.unlink(pem)
        tid, sig = send_signed(st, sink, dnsm, k)
        assert "a=ed25519-sha256;" in sig and "c=relaxed/relaxed;" in sig, sig
    with_dkim_stack("dkim-sign-ed", body)


def test_imported_ed25519_and_rsa_keys():
    def body(st, sink, dnsm):
        st.phctl("domain", "add", "default", DOMAIN)
        pem = "/tmp/dkim-test-ed-%s.pem" % uuid.uuid4().hex
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", pem], check=True)
        k = st.phctl("dkim", "add", DOMAIN, "ed1", "--key-file", pem)
        assert k["txt_record_value"].startswith("v=DKIM1; k=ed25519; p="), k
        bad = "/tmp/dkim-test-bad-%s.pem" % uuid.uuid4().hex
        with open(bad, "w") as f:
            f.write("not a key\n")
        p = subprocess.run([PHCTL, "--config", st.config_path, "dkim", "add",
                            DOMAIN, "bad1", "--key-file", bad], capture_output=True, text=True)
        os.unlink(pem)
        os.unlink(bad)
        assert p.returncode == 1 and "not an unencrypted PEM private key" in p.stderr, p.stderr
    with_dkim_stack("dkim-import", body)


def test_451_signing_failure():
    """DKIM signing fails (PH_FAULTS=dkim_sign) for a From domain with an
    ACTIVE key: the exact reply to DATA is "451 Error in Processing", the
    message is not queued (no header log record, never at the sink), the
    failure is in the accepted event log, and the session goes on: a message
    from a domain without a key is accepted on the same connection."""
    def body(st, sink, dnsm):
        st.phctl("sender", "add", "default", "@" + DOMAIN)
        st.phctl("sender", "add", "default", "carol@plain.test")
        d, k = add_key(st, "sel1")
        publish_right(dnsm, k)
        wait_state(st, k["id"], "ACTIVE", timeout=10)
        wait_until(lambda: "ACTIVE" in st.log(), 10, "the key in the log")
        c = RawSmtp(st.smtp_port)
        try:
            tid = uuid.uuid4().hex
            r = c.send_mail("alice@" + DOMAIN, "bob@dest.test", subject="fault " + tid)
            assert r == "451 Error in Processing", r
            ok = c.send_mail("carol@plain.test", "bob@dest.test", subject="after " + tid)
            assert ok.startswith("250 2.0.0 Ok: queued as "), ok
        finally:
            c.close()
        wait_until(lambda: any(("after " + tid).encode() in m for m in sink.messages()),
                   30, "the message sent after the failure at the sink")
        st.wait_drained(30)
        assert not any(("fault " + tid).encode() in m for m in sink.messages()), "relayed"
        assert st.phctl("log", "--sender", "alice@" + DOMAIN) == [], "queued"
        recs = [r["data"] for r in event_records(st.data, "accepted")
                if r["data"].get("sender") == "alice@" + DOMAIN]
        assert [(r.get("smtpStatus"), r.get("errorType")) for r in recs] == [
            ("451 Error in Processing", "Error in Processing")], recs
        assert "DKIM signing with %s failed: fault injected (PH_FAULTS)" % k["id"] in st.log()
    with_dkim_stack("dkim-fault", body, env={"PH_FAULTS": "dkim_sign"})


if __name__ == "__main__":
    run_tests([test_records_and_needs_attention, test_wrong_zone_reported_then_active,
               test_signed_message_verifies, test_ed25519_signed_message_verifies,
               test_imported_ed25519_and_rsa_keys, test_451_signing_failure])
