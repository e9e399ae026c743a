#!/usr/bin/python3
"""Issue 9: one submission pipeline for SMTP and HTTPS.

A domain with an ACTIVE DKIM key (dnsmasq serves the records, ph-control's
checker activates the key, as in test_dkim.py). One user sends the same
message over SMTP (AUTH on the submission port), over HTTPS submitEmail and
over HTTPS submitRawEmail (OCI-signed requests): all three arrive at an
smtp-sink with a DKIM-Signature that python3-dkim verifies against the
published key (a recipient on the suppression list gets none); the three
header-log records agree on every field but the channel and the ids, and so
do their accepted-log records; a refused header From gets the same decision
on both channels. submitRawEmail answers messageId without angle brackets, and a
message without Message-ID gets one that ends in the configured hostname.
"""
import email
import re
import smtplib
import ssl
import uuid

import dkim

from phtest import (Dnsmasq, HttpsApi, Procs, SmtpSink, Stack, event_records, make_api_key,
                    run_tests, wait_until)
from test_dkim import DOMAIN, publish_right, resolve_txt, wait_state

SUBMIT = "/20220926/actions/submitEmail"
RAW = "/20220926/actions/submitRawEmail"
HOSTNAME = "mx.submit.test"
SENDER = "alice@" + DOMAIN
TO, GONE = "bob@dest.test", "gone@dest.test"
# what the header log says of a message apart from its channel and its ids
SAME_FIELDS = ("header_from", "to", "cc", "subject", "mail_from", "dkim_selector",
               "tenant_id")


class Env:
    """One stack for every test of this file."""
    procs = st = sink = dnsm = api = comp = cred = None


def env():
    if Env.st is not None:
        return Env
    Env.procs = Procs()
    Env.sink = SmtpSink(Env.procs, "/tmp")
    Env.dnsm = Dnsmasq(Env.procs, "/tmp")
    cfg = ("[dkim]\ncheck_interval = 1s\ndns_servers = %s\ndns_timeout = 500ms\n"
           "[smtpd]\nhostname = %s\n[httpd]\nhostname = %s\n" % (Env.dnsm.server, HOSTNAME,
                                                                  HOSTNAME))
    Env.st = Stack("submit", sink_port=Env.sink.port, config=cfg).start()
    st = Env.st
    user = st.phctl("user", "list")[0]
    Env.comp = user["compartment_ids"][0]
    Env.api = HttpsApi(st, *make_api_key(st, user["id"]))
    Env.cred = st.phctl("credential", "create", user["id"])
    st.phctl("sender", "add", "default", "@" + DOMAIN)
    st.phctl("suppression", "add", "default", GONE)
    st.phctl("domain", "add", "default", DOMAIN)
    key = st.phctl("dkim", "add", DOMAIN, "sub1")
    publish_right(Env.dnsm, key)
    wait_state(st, key["id"], "ACTIVE", timeout=15)
    wait_until(lambda: "ACTIVE" in st.log(), 10, "the key in the replicas' log")
    wait_until(lambda: Env.api.call("GET", "/20170907/senders?compartmentId=" +
                                    Env.comp)[0] == 200, 10, "the API key at ph-httpd")
    return Env


def stop():
    if Env.st is not None:
        Env.api.close()
        Env.st.stop()
        Env.st.assert_clean_log()
        Env.procs.stop_all()


def rfc5322(tid, msgid, sender=SENDER):
    """The message as submitEmail builds it from json_message(), so the
    header log can compare the channels field by field."""
    head = ('From: "Alice" <%s>\r\nTo: <%s>,\r\n <%s>\r\nSubject: same %s\r\n'
            % (sender, TO, GONE, tid))
    if msgid:
        head += "Message-ID: <%s>\r\n" % msgid
    return (head + "X-Test-Id: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n\r\nsigned body\r\n" % tid)


def json_message(tid, msgid):
    return {"sender": {"senderAddress": {"email": SENDER, "name": "Alice"},
                       "compartmentId": Env.comp},
            "recipients": {"to": [{"email": TO}, {"email": GONE}]},
            "subject": "same %s" % tid, "bodyText": "signed body\n", "messageId": msgid,
            "headerFields": {"X-Test-Id": tid}}


def send_smtp(tid, msgid, sender=SENDER):
    """As the user, over ph-smtpd's submission port (STARTTLS, AUTH), the
    header From SENDER: the reply to DATA and the refused recipients."""
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    c = smtplib.SMTP("127.0.0.1", Env.st.submission_port, timeout=30)
    try:
        c.starttls(context=tls)
        c.login(Env.cred["username"], Env.cred["password"])
        refused = c.sendmail(SENDER, [TO, GONE], rfc5322(tid, msgid, sender).encode())
        return "250", refused
    except smtplib.SMTPDataError as e:
        return "%d %s" % (e.smtp_code, e.smtp_error.decode()), None
    finally:
        c.quit()


def send_raw(tid, msgid, sender=SENDER):
    return Env.api.call("POST", RAW, rfc5322(tid, msgid, sender).encode(), headers={
        "content-type": "message/rfc822", "compartment-id": Env.comp, "sender": SENDER,
        "recipients": "%s, %s" % (TO, GONE)})


def delivered(msgid):
    """The raw message with MSGID at the sink, CRLF line ends."""
    def find():
        for m in Env.sink.messages():
            if ("<%s>" % msgid).encode() in m:
                return m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return None
    return wait_until(find, 30, "message %s at the sink" % msgid)


def dkim_checked(raw):
    """The message's DKIM-Signature (unfolded), verified by python3-dkim
    against the key our dnsmasq publishes; a changed body fails."""
    sigs = [re.sub(r"\r?\n[ \t]", " ", v) for v in
            email.message_from_bytes(raw).get_all("DKIM-Signature", [])]
    assert len(sigs) == 1, sigs
    assert "d=%s;" % DOMAIN in sigs[0] and "s=sub1;" in sigs[0], sigs[0]
    dnsfunc = resolve_txt(Env.dnsm)
    assert dkim.verify(raw, dnsfunc=dnsfunc), "python3-dkim does not verify"
    assert not dkim.verify(raw.replace(b"signed body", b"signed bodY"), dnsfunc=dnsfunc)
    return sigs[0]


def header_log(msgid):
    recs = wait_until(lambda: Env.st.phctl("log", "--message-id", msgid), 10,
                      "the header log record of " + msgid)
    assert len(recs) == 1, recs
    return recs[0]


def accepted_records(msgid):
    """The accepted-log records of MSGID, by recipient, without the fields
    that name the message or the client."""
    recs = [r["data"] for r in event_records(Env.st.data, "accepted")
            if r["data"].get("messageId") == msgid]
    return sorted(({k: v for k, v in r.items() if k not in ("messageId", "sourceAddress")}
                   for r in recs), key=lambda r: r.get("recipient", ""))


def test_same_message_three_channels():
    env()
    tid = uuid.uuid4().hex
    ids = {ch: "%s-%s@%s" % (tid, ch, DOMAIN) for ch in ("smtp", "email", "raw")}
    reply, refused = send_smtp(tid, ids["smtp"])
    assert reply == "250" and list(refused) == [GONE] and refused[GONE][0] == 254, refused
    st_, body, _ = Env.api.call("POST", SUBMIT, json_message(tid, "<%s>" % ids["email"]))
    assert st_ == 200, body
    assert body["messageId"] == ids["email"], body
    assert body["suppressedRecipients"] == [{"email": GONE}], body
    st_, body, _ = send_raw(tid, ids["raw"])
    assert st_ == 200, body
    assert body["messageId"] == ids["raw"], "not bare: %r" % body["messageId"]
    assert body["suppressedRecipients"] == [GONE], body
    # every one signed, verified against the published key
    for msgid in ids.values():
        dkim_checked(delivered(msgid))
    Env.st.wait_drained(30)
    logs = {ch: header_log(msgid) for ch, msgid in ids.items()}
    assert {ch: r["source"] for ch, r in logs.items()} == {
        "smtp": "smtp", "email": "https", "raw": "https"}, logs
    for ch, rec in logs.items():
        assert rec["message_id"] == "<%s>" % ids[ch], rec
        assert [(r["address"], r["outcome"]) for r in rec["rcpts"]] == [
            (TO, "delivered")], (ch, rec)
        same = {k: rec.get(k) for k in SAME_FIELDS}
        assert same == {k: logs["smtp"].get(k) for k in SAME_FIELDS}, (ch, same, logs["smtp"])
    assert logs["smtp"]["dkim_selector"] == "sub1" and logs["smtp"]["header_from"] == SENDER
    records = {ch: accepted_records(msgid) for ch, msgid in ids.items()}
    assert records["smtp"] == records["email"] == records["raw"], records
    assert [(r["recipient"], r.get("errorType")) for r in records["smtp"]] == [
        (TO, None), (GONE, "Recipient suppressed")], records["smtp"]


def test_refused_from_same_decision():
    """A header From that is not an approved sender: 535 over SMTP, 404 over
    HTTPS, and the same accepted-log records."""
    env()
    tid = uuid.uuid4().hex
    ids = {ch: "%s-%s@%s" % (tid, ch, DOMAIN) for ch in ("smtp", "raw")}
    bad = "mallory@elsewhere.test"
    reply, _ = send_smtp(tid, ids["smtp"], sender=bad)
    assert reply == "535 Authorization failed: address %s not authorized" % bad, reply
    st_, body, _ = send_raw(tid, ids["raw"], sender=bad)
    assert (st_, body) == (404, {"code": "NotAuthorizedOrNotFound", "message":
                                 "Authorization failed: address %s not authorized or "
                                 "not found" % bad}), (st_, body)
    records = {ch: accepted_records(msgid) for ch, msgid in ids.items()}
    assert records["smtp"] == records["raw"], records
    assert [(r["recipient"], r.get("errorType")) for r in records["raw"]] == [
        (TO, "Authorization failure"), (GONE, "Recipient suppressed")], records["raw"]


def test_generated_message_ids():
    """No Message-ID: the pipeline adds one ending in the configured hostname,
    on every channel; the HTTPS answers name it bare."""
    env()
    tid = uuid.uuid4().hex
    st_, body, _ = send_raw(tid, None)
    assert st_ == 200, body
    raw_id = body["messageId"]
    d = json_message(tid, None)
    del d["messageId"]
    st_, body, _ = Env.api.call("POST", SUBMIT, d)
    assert st_ == 200, body
    for msgid in (raw_id, body["messageId"]):
        assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(HOSTNAME), msgid), msgid
        dkim_checked(delivered(msgid))
        assert header_log(msgid)["message_id"] == "<%s>" % msgid
    assert send_smtp(tid, None)[0] == "250"
    smtp_ids = wait_until(lambda: [v.strip("<>") for v in Env.sink.header_values("Message-ID")
                                   if v.endswith("@%s>" % HOSTNAME) and v.strip("<>")
                                   not in (raw_id, body["messageId"])], 30,
                          "the SMTP message with a generated Message-ID")
    assert len(smtp_ids) == 1, smtp_ids
    dkim_checked(delivered(smtp_ids[0]))


if __name__ == "__main__":
    try:
        run_tests([test_same_message_three_channels, test_refused_from_same_decision,
                   test_generated_message_ids])
    finally:
        stop()
