#!/usr/bin/python3
"""Issues 4 and 9: ph-httpd, the OCI-compatible HTTPS API, on a real stack.

Every documented reply of the seed's HTTPS table (status, code, message),
OCI request signing (401 NotAuthenticated), hostile bodies, the control plane
(senders, suppressions, configuration, pagination, tenancy isolation, etags
and if-match), a new tenant usable at once through its root compartment, raw
MIME submission, and the real OCI TypeScript SDK (oci_sdk.mjs) end to end.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import time
import uuid

from phtest import (BIN, HttpsApi, Procs, SmtpSink, Stack, make_api_key, run_tests,
                    wait_port, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
SUBMIT = "/20220926/actions/submitEmail"
RAW = "/20220926/actions/submitRawEmail"
AUTH_MSG = ("The required information to complete authentication was not provided "
            "or was incorrect.")
NO_ETAG_MATCH = "The ETag specified in the request does not match the ETag for the resource."
WRONG_ETAG = "0" * 32


class Env:
    """One stack shared by the tests of this file (started once)."""
    st = sink = procs = api = None
    tenant = comp = user = None


def tenant_setup(st, name, per_minute=None, per_day=None):
    """A tenant with a compartment, a user, an API key and an approved sender
    sender@<name>.test; returns (api, tenant_id, compartment_id)."""
    args = ["tenant", "add", name]
    if per_minute:
        args += ["--per-minute", str(per_minute)]
    if per_day:
        args += ["--per-day", str(per_day)]
    t = st.phctl(*args)
    c = st.phctl("compartment", "add", t["id"], "main")
    u = st.phctl("user", "add", t["id"], "u-" + name, "--compartment", c["id"])
    kid, pem = make_api_key(st, u["id"])
    st.phctl("sender", "add", t["id"], "sender@%s.test" % name, "--compartment", c["id"])
    api = HttpsApi(st, kid, pem)
    wait_until(lambda: api.call("GET", "/20170907/configuration?compartmentId=" +
                                t["id"])[0] == 200, 10, "the key at ph-httpd")
    return api, t["id"], c["id"]


def env():
    if Env.st is None:
        Env.procs = Procs()
        Env.sink = SmtpSink(Env.procs, "/tmp")
        Env.st = Stack("https", sink_port=Env.sink.port)
        atexit.register(lambda: (Env.st.stop(), Env.procs.stop_all()))
        Env.st.start()
        wait_port(Env.st.https_port)
        u = Env.st.phctl("user", "list")[0]
        Env.user, Env.tenant = u["id"], u["tenant_id"]
        Env.comp = u["compartment_ids"][0]
        kid, pem = make_api_key(Env.st, Env.user)
        Env.api = HttpsApi(Env.st, kid, pem)
        Env.st.phctl("sender", "add", Env.tenant, "alice@source.test")
        wait_until(lambda: Env.api.call("GET", "/20170907/senders?compartmentId=" +
                                        Env.comp)[0] == 200, 10, "the key at ph-httpd")
    return Env


def mail(**over):
    e = env()
    d = {"sender": {"senderAddress": {"email": "alice@source.test", "name": "Alice"},
                    "compartmentId": e.comp},
         "recipients": {"to": [{"email": "bob@dest.test", "name": "Bob"}]},
         "subject": "hello", "bodyText": "hi\n"}
    d.update(over)
    return d


def expect(resp, status, code=None, message=None):
    st, body, hdr = resp
    assert st == status, "status %d, want %d: %r" % (st, status, body)
    assert hdr.get("opc-request-id"), "no opc-request-id: %d %r %r" % (st, body, hdr)
    if code is not None:
        assert body == {"code": code, "message": message}, "got %r, want %r" % (
            body, {"code": code, "message": message})
    return body


def submit(d, **kw):
    return env().api.call("POST", SUBMIT, d, **kw)


# ---- 200 and the message at the sink

def test_submit_email_arrives():
    e = env()
    tid = uuid.uuid4().hex
    d = mail(subject="Grüße " + tid, bodyHtml="<p>hï</p>", messageId=tid + "@source.test",
             recipients={"to": [{"email": "bob@dest.test", "name": "Bob \"B\""}],
                         "cc": [{"email": "carol@dest.test"}],
                         "bcc": [{"email": "dave@dest.test"}]},
             replyTo=[{"email": "help@source.test"}],
             headerFields={"X-Test-Id": tid, "X-Evil": "a\r\nBcc: evil@dest.test"})
    body = expect(submit(d), 200)
    assert body["messageId"] == tid + "@source.test" and body["envelopeId"]
    assert body["suppressedRecipients"] == []
    wait_until(lambda: any(tid.encode() in m for m in e.sink.messages()), 30, "the message")
    every = b"".join(m for m in e.sink.messages() if tid.encode() in m)
    for r in (b"bob", b"carol", b"dave"):
        assert b"X-Rcpt-Args: <%s@dest.test>" % r in every, "no copy for " + r.decode()
    # smtp-sink stores lines with LF ends
    raw = [m for m in e.sink.messages() if tid.encode() in m][0]
    head = raw.split(b"\n\n", 1)[0]
    assert b"\nSubject: =?UTF-8?B?" in head, head
    assert b"\nMessage-ID: <%s@source.test>" % tid.encode() in head
    ours = head.split(b"Received: from [", 1)[1]
    assert b"\nCc: <carol@dest.test>" in ours and b"dave@dest.test" not in ours
    assert b"\nBcc:" not in head and b"\nX-Evil: =?UTF-8?B?" in head, "CR/LF reached a header"
    assert b"multipart/alternative" in head


def test_request_id_echoed_and_minted():
    e = env()
    st, _, h = e.api.call("GET", "/20170907/configuration?compartmentId=" + e.tenant,
                          headers={"opc-request-id": "my-req/1"})
    assert st == 200 and h["opc-request-id"] == "my-req/1"
    st, _, h = e.api.call("GET", "/20170907/configuration?compartmentId=" + e.tenant)
    assert len(h["opc-request-id"]) == 32


# ---- 400 InvalidParameter (7) and MissingParameter (5)

def test_invalid_parameter_messages():
    e = env()
    cases = [
        (mail(messageId="no-at-sign"), "Message ID not formed according to RFCs."),
        (mail(recipients={"to": [{"email": ""}]}), "Email Address can't be null or empty."),
        (mail(recipients={"to": [{"email": "bad address@"}]}),
         "Invalid Internet Address : bad address@"),
        (mail(recipients={"to": [{"email": "r%d@dest.test" % i} for i in range(30)],
                          "cc": [{"email": "c%d@dest.test" % i} for i in range(21)]}),
         "maxItems: 50, for recipients across the To:, CC: and BCC: fields."),
        (mail(headerFields={"": "v"}), "Header Key can't be null or empty"),
        (mail(headerFields={"X-Ünicode": "v"}),
         "Custom Mail Header Keys should be ASCII only X-Ünicode"),
        (mail(headerFields={"Subject": "v"}),
         "Subject is a reserved mail header which is not allowed"),
    ]
    for d, msg in cases:
        expect(submit(d), 400, "InvalidParameter", msg)


def test_missing_parameter_messages():
    base = mail()
    no_comp = mail(sender={"senderAddress": {"email": "alice@source.test"}})
    cases = [
        (no_comp, "Required attribute sender compartmentId cannot be empty or null."),
        (mail(subject=""), "Required attribute subject can't be empty or null."),
        ({k: v for k, v in base.items() if k != "sender"},
         "Required attribute sender can't be empty or null."),
        (mail(recipients={"to": [], "cc": []}),
         "Required attribute recipients must contain either to , cc or bcc recipients."),
        ({k: v for k, v in base.items() if k != "bodyText"},
         "Required attribute body(html/text) is missing. Request must contain either "
         "bodyText or bodyHtml"),
    ]
    for d, msg in cases:
        expect(submit(d), 400, "MissingParameter", msg)


# ---- 404, 413, LimitExceeded

def test_sender_not_approved_404():
    d = mail(sender={"senderAddress": {"email": "mallory@source.test"},
                     "compartmentId": env().comp})
    expect(submit(d), 404, "NotAuthorizedOrNotFound",
           "Authorization failed: address mallory@source.test not authorized or not found")


def test_message_over_byte_limit_413():
    expect(submit(mail(bodyText="x" * (2 * 1024 * 1024))), 413, "RequestEntityTooLarge",
           "Message exceeds byte limit : limit is 2097152")


def test_limit_exceeded_per_minute_and_day():
    st = env().st
    api, t, c = tenant_setup(st, "lim", per_minute=2, per_day=1000)
    d = mail(sender={"senderAddress": {"email": "sender@lim.test"}, "compartmentId": c})
    expect(api.call("POST", SUBMIT, d), 200)
    expect(api.call("POST", SUBMIT, d), 200)
    expect(api.call("POST", SUBMIT, d), 400, "LimitExceeded",
           "Maximum messages sent per minute reached : limit is 2")
    api2, t2, c2 = tenant_setup(st, "day", per_minute=100, per_day=1)
    d2 = mail(sender={"senderAddress": {"email": "sender@day.test"}, "compartmentId": c2})
    expect(api2.call("POST", SUBMIT, d2), 200)
    expect(api2.call("POST", SUBMIT, d2), 400, "LimitExceeded",
           "Maximum messages sent per day reached : limit is 1")


# ---- 401 NotAuthenticated

def test_not_authenticated():
    e = env()
    expect(e.api.call("POST", SUBMIT, mail(), sign=False), 401, "NotAuthenticated", AUTH_MSG)
    expect(submit(mail(), date="Mon, 01 Jan 2001 00:00:00 GMT"), 401, "NotAuthenticated",
           AUTH_MSG)
    expect(submit(mail(), headers={"x-content-sha256": "AAAA"}), 401, "NotAuthenticated",
           AUTH_MSG)
    expect(submit(mail(), signed=["date", "(request-target)", "host"]), 401,
           "NotAuthenticated", AUTH_MSG)
    other = HttpsApi(e.st, e.api.key_id.rsplit("/", 1)[0] + "/00:11", e.api.key_pem)
    expect(other.call("GET", "/20170907/configuration?compartmentId=" + e.tenant), 401,
           "NotAuthenticated", AUTH_MSG)
    # a valid signature over another body
    import ocisign
    url = "https://127.0.0.1:%d%s" % (e.st.https_port, SUBMIT)
    other_body = json.dumps(mail()).encode()
    h = ocisign.sign("POST", url, {}, b"{}", e.api.key_id, e.api.key_pem)
    h["content-length"] = str(len(other_body))
    e.api.conn.request("POST", SUBMIT, body=other_body, headers=h)
    r = e.api.conn.getresponse()
    assert r.status == 401 and json.loads(r.read())["code"] == "NotAuthenticated"


# ---- hostile bodies

def test_hostile_bodies():
    e = env()
    bad_json = ("Request body is not valid JSON.")
    for body in (b"{", b"[" * 100000 + b"]" * 100000, b'{"subject": "\xff\xfe"}',
                 b'{"subject": "a", "subject": "b"}', b'{"subject": "\\u0000"}'):
        expect(e.api.call("POST", SUBMIT, body), 400, "CannotParseRequest", bad_json)
    expect(e.api.call("POST", SUBMIT, b"[1]"), 400, "CannotParseRequest",
           "Request body must be a JSON object.")
    expect(e.api.call("POST", SUBMIT, {"sender": 5}), 400, "CannotParseRequest",
           "Invalid value for attribute sender.")
    big = json.dumps(mail(subject="s" * (10 * 1024 * 1024))).encode()
    expect(e.api.call("POST", SUBMIT, big), 413, "RequestEntityTooLarge",
           "Message exceeds byte limit : limit is 2097152")
    expect(e.api.call("GET", "/20170907/configuration?compartmentId=" + e.tenant), 200)


# ---- suppressions and the control plane

def test_suppression_reported_and_not_delivered():
    e = env()
    tid = uuid.uuid4().hex
    x = expect(e.api.call("POST", "/20170907/suppressions",
                          {"compartmentId": e.tenant, "emailAddress": "Gone@Dest.test"}), 200)
    assert x["emailAddress"] == "gone@dest.test" and x["reason"] == "MANUAL"
    assert x["timeCreated"].endswith("Z")
    wait_until(lambda: submit(mail(subject="probe", recipients={"to": [
        {"email": "gone@dest.test"}]}))[1].get("suppressedRecipients"), 10, "the replica")
    d = mail(subject="supp " + tid, headerFields={"X-Test-Id": tid},
             recipients={"to": [{"email": "gone@dest.test", "name": "G"},
                                {"email": "kept@dest.test"}]})
    body = expect(submit(d), 200)
    assert body["suppressedRecipients"] == [{"email": "gone@dest.test", "name": "G"}]
    wait_until(lambda: any(tid.encode() in m for m in e.sink.messages()), 30, "the message")
    got = [m for m in e.sink.messages() if tid.encode() in m]
    assert len(got) == 1 and b"X-Rcpt-Args: <kept@dest.test>" in got[0]
    g = expect(e.api.call("GET", "/20170907/suppressions/" + x["id"]), 200)
    assert g["id"] == x["id"]
    lst = expect(e.api.call("GET", "/20170907/suppressions?compartmentId=" + e.tenant), 200)
    assert [s["emailAddress"] for s in lst] == ["gone@dest.test"]
    expect(e.api.call("DELETE", "/20170907/suppressions/" + x["id"]), 204)
    expect(e.api.call("GET", "/20170907/suppressions/" + x["id"]), 404,
           "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")


def test_senders_crud_and_pagination():
    e = env()
    ids = []
    for i in range(5):
        s = expect(e.api.call("POST", "/20170907/senders",
                              {"compartmentId": e.comp, "emailAddress": "p%d@page.test" % i}), 200)
        assert s["lifecycleState"] == "ACTIVE" and s["compartmentId"] == e.comp
        ids.append(s["id"])
    st, body, _ = e.api.call("POST", "/20170907/senders",
                             {"compartmentId": e.comp, "emailAddress": "p0@page.test"})
    assert st == 409 and body["code"] == "Conflict"
    seen, page = [], None
    while True:
        q = "/20170907/senders?compartmentId=%s&limit=2" % e.comp + ("&page=" + page if page else "")
        st, items, h = e.api.call("GET", q)
        assert st == 200 and len(items) <= 2
        seen += [s["id"] for s in items]
        page = h.get("opc-next-page")
        if not page:
            break
    assert set(ids) <= set(seen) and len(seen) == len(set(seen))
    expect(e.api.call("GET", "/20170907/senders/" + ids[0]), 200)
    expect(e.api.call("DELETE", "/20170907/senders/" + ids[0]), 204)
    expect(e.api.call("GET", "/20170907/senders/" + ids[0]), 404, "NotAuthorizedOrNotFound",
           "Authorization failed or requested resource not found.")
    st, body, _ = e.api.call("GET", "/20170907/senders")
    assert st == 400 and body["code"] == "MissingParameter"


def test_tenancy_isolation_and_configuration():
    e = env()
    api, t, c = tenant_setup(e.st, "other")
    mine = e.api.call("GET", "/20170907/senders?compartmentId=" + e.comp)[1]
    expect(api.call("GET", "/20170907/senders/" + mine[0]["id"]), 404,
           "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
    expect(api.call("POST", "/20170907/senders", {"compartmentId": e.comp,
                                                   "emailAddress": "x@other.test"}), 404)
    d = mail(sender={"senderAddress": {"email": "alice@source.test"}, "compartmentId": e.comp})
    expect(api.call("POST", SUBMIT, d), 404, "NotAuthorizedOrNotFound",
           "Authorization failed: address alice@source.test not authorized or not found")
    cfg = expect(api.call("GET", "/20170907/configuration?compartmentId=" + t), 200)
    assert cfg["compartmentId"] == t
    assert cfg["httpSubmitEndpoint"] == "https://127.0.0.1:%d" % e.st.https_port
    # no [httpd] smtp_submit_endpoint: the [smtpd] submission listener
    assert cfg["smtpSubmitEndpoint"] == "127.0.0.1:%d" % e.st.submission_port, cfg
    expect(api.call("GET", "/20170907/emailDomains?compartmentId=" + t), 200)


def test_unknown_path_404():
    expect(env().api.call("GET", "/20170907/nothing"), 404, "NotAuthorizedOrNotFound",
           "Authorization failed or requested resource not found.")


# ---- email domains, DKIM keys and their work requests (asynchronous)

NOT_FOUND = "Authorization failed or requested resource not found."
ZONE = "dkim.posthaste.localdomain"


def work_request(api, resp, op, entity_type, action, entity_id):
    """The work request of an asynchronous reply: SUCCEEDED, about ENTITY_ID."""
    st, body, h = resp
    assert st == 202, "status %d, want 202: %r" % (st, body)
    wid = h["opc-work-request-id"]
    assert wid.startswith("ocid1.emailworkrequest."), wid
    w = {}

    def done():
        w.update(expect(api.call("GET", "/20170907/workRequests/" + wid), 200))
        return w["status"] == "SUCCEEDED"
    wait_until(done, 10, "work request %s SUCCEEDED" % wid)
    assert w["operationType"] == op and w["percentComplete"] == 100, w
    res = w["resources"][0]
    assert (res["entityType"], res["actionType"], res["identifier"]) == (
        entity_type, action, entity_id), w
    assert w["timeAccepted"] <= w["timeStarted"] <= w["timeFinished"], w
    errors = expect(api.call("GET", "/20170907/workRequests/%s/errors" % wid), 200)
    assert errors == {"items": []}, errors
    logs = expect(api.call("GET", "/20170907/workRequests/%s/logs" % wid), 200)
    assert [x["message"] for x in logs["items"]] == ["Work request accepted",
                                                      "Work request succeeded"], logs
    return w


def test_email_domain_and_dkim_keys():
    e = env()
    api = e.api
    dom = "d%s.test" % uuid.uuid4().hex[:10]
    r = api.call("POST", "/20170907/emailDomains",
                 {"name": dom.upper(), "compartmentId": e.comp, "description": "first"})
    d = r[1]
    assert (d["name"], d["compartmentId"], d["lifecycleState"], d["description"]) == (
        dom, e.comp, "CREATING", "first"), d
    work_request(api, r, "CREATE_EMAIL_DOMAIN", "emailDomain", "CREATED", d["id"])
    assert expect(api.call("GET", "/20170907/emailDomains/" + d["id"]), 200)[
        "lifecycleState"] == "ACTIVE"
    r = api.call("POST", "/20170907/dkims",
                 {"emailDomainId": d["id"], "name": "sel1", "description": "k1"})
    k1 = r[1]
    work_request(api, r, "CREATE_DKIM", "dkim", "CREATED", k1["id"])
    assert k1["name"] == "sel1" and k1["emailDomainId"] == d["id"], k1
    assert k1["dnsSubdomainName"] == "sel1._domainkey." + dom, k1
    assert k1["cnameRecordValue"] == "sel1.%s.%s" % (dom, ZONE), k1
    assert k1["txtRecordValue"].startswith("v=DKIM1; k=rsa; p=MII"), k1
    assert k1["lifecycleState"] == "CREATING" and "privateKey" not in k1, k1
    r = api.call("POST", "/20170907/dkims", {"emailDomainId": d["id"]})
    k2 = r[1]
    work_request(api, r, "CREATE_DKIM", "dkim", "CREATED", k2["id"])
    assert k2["name"].startswith("ph-" + time.strftime("%Y%m%d", time.gmtime())), k2
    st, body, _ = api.call("POST", "/20170907/dkims", {"emailDomainId": d["id"], "name": "s3"})
    assert (st, body["code"]) == (409, "Conflict"), body
    expect(api.call("POST", "/20170907/dkims", {"name": "s4"}), 400, "MissingParameter",
           "Required attribute emailDomainId can't be empty or null.")
    expect(api.call("POST", "/20170907/dkims", {"emailDomainId": "ocid1.emaildomain.nope"}),
           404, "NotAuthorizedOrNotFound", NOT_FOUND)
    g = expect(api.call("GET", "/20170907/dkims/" + k1["id"]), 200)
    assert g["cnameRecordValue"] == k1["cnameRecordValue"], g
    # updates: the description only
    r = api.call("PUT", "/20170907/dkims/" + k1["id"], {"description": "renamed"})
    assert r[1] is None, r
    work_request(api, r, "UPDATE_DKIM", "dkim", "UPDATED", k1["id"])
    g = expect(api.call("GET", "/20170907/dkims/" + k1["id"]), 200)
    assert g["description"] == "renamed" and g["name"] == "sel1", g
    assert g["txtRecordValue"] == k1["txtRecordValue"], g
    r = api.call("PUT", "/20170907/emailDomains/" + d["id"], {"description": "second"})
    work_request(api, r, "UPDATE_EMAIL_DOMAIN", "emailDomain", "UPDATED", d["id"])
    g = expect(api.call("GET", "/20170907/emailDomains/" + d["id"]), 200)
    assert (g["description"], g["name"], g["compartmentId"]) == ("second", dom, e.comp), g
    # another tenancy sees nothing of it
    other = tenant_setup(e.st, "dkimother")[0]
    for path in ("/20170907/emailDomains/" + d["id"], "/20170907/dkims/" + k1["id"]):
        expect(other.call("GET", path), 404, "NotAuthorizedOrNotFound", NOT_FOUND)
        expect(other.call("DELETE", path), 404, "NotAuthorizedOrNotFound", NOT_FOUND)
    expect(other.call("POST", "/20170907/dkims", {"emailDomainId": d["id"]}), 404,
           "NotAuthorizedOrNotFound", NOT_FOUND)
    # lists: sortBy / sortOrder and pages
    q = "/20170907/dkims?emailDomainId=" + d["id"]
    names = lambda resp: [x["name"] for x in resp["items"]]  # noqa: E731
    assert names(expect(api.call("GET", q + "&sortBy=NAME"), 200)) == sorted(
        [k2["name"], "sel1"])
    assert names(expect(api.call("GET", q + "&sortBy=NAME&sortOrder=DESC"), 200)) == sorted(
        [k2["name"], "sel1"], reverse=True)
    assert names(expect(api.call("GET", q), 200)) == [k2["name"], "sel1"], "newest first"
    st, p1, h = api.call("GET", q + "&sortBy=TIMECREATED&sortOrder=ASC&limit=1")
    assert st == 200 and names(p1) == ["sel1"] and h["opc-next-page"] == "1", (p1, h)
    st, p2, h = api.call("GET", q + "&sortBy=TIMECREATED&sortOrder=ASC&limit=1&page=1")
    assert names(p2) == [k2["name"]] and "opc-next-page" not in h, (p2, h)
    expect(api.call("GET", q + "&sortBy=SIZE"), 400, "InvalidParameter", "Invalid sortBy")
    expect(api.call("GET", q + "&sortOrder=UP"), 400, "InvalidParameter", "Invalid sortOrder")
    wrs = expect(api.call("GET", "/20170907/workRequests?compartmentId=" + e.comp), 200)
    times = [w["timeAccepted"] for w in wrs["items"]]
    assert len(times) >= 6 and times == sorted(times, reverse=True), wrs
    # deletes: the key, then the domain (with its other key)
    r = api.call("DELETE", "/20170907/dkims/" + k1["id"])
    work_request(api, r, "DELETE_DKIM", "dkim", "DELETED", k1["id"])
    expect(api.call("GET", "/20170907/dkims/" + k1["id"]), 404, "NotAuthorizedOrNotFound",
           NOT_FOUND)
    r = api.call("DELETE", "/20170907/emailDomains/" + d["id"])
    work_request(api, r, "DELETE_EMAIL_DOMAIN", "emailDomain", "DELETED", d["id"])
    expect(api.call("GET", "/20170907/dkims/" + k2["id"]), 404, "NotAuthorizedOrNotFound",
           NOT_FOUND)
    expect(api.call("GET", "/20170907/emailDomains/" + d["id"]), 404,
           "NotAuthorizedOrNotFound", NOT_FOUND)


def test_refused_change_is_a_failed_work_request():
    e = env()
    st, body, h = e.api.call("POST", "/20170907/emailDomains",
                             {"name": "gmail.com", "compartmentId": e.comp})
    assert (st, body["code"]) == (400, "InvalidParameter"), body
    assert "opc-work-request-id" not in h
    failed = expect(e.api.call("GET", "/20170907/workRequests?status=FAILED&compartmentId=" +
                               e.tenant), 200)["items"]
    w = [x for x in failed if x["operationType"] == "CREATE_EMAIL_DOMAIN"][0]
    errs = expect(e.api.call("GET", "/20170907/workRequests/%s/errors" % w["id"]), 200)
    assert errs["items"][0]["message"] == body["message"], errs
    expect(e.api.call("GET", "/20170907/workRequests/ocid1.emailworkrequest.none"), 404,
           "NotAuthorizedOrNotFound", NOT_FOUND)
    expect(e.api.call("GET", "/20170907/workRequests"), 400, "MissingParameter",
           "Missing required parameter: compartmentId")


def test_senders_time_created_and_sort():
    e = env()
    made = []
    for a in ("s-b", "s-c", "s-a"):
        s = expect(e.api.call("POST", "/20170907/senders", {
            "compartmentId": e.comp, "emailAddress": "%s@sort.test" % a}), 200)
        assert s["timeCreated"].endswith("Z") and s["lifecycleState"] == "ACTIVE", s
        made.append(s)
        time.sleep(0.01)
    q = "/20170907/senders?compartmentId=%s" % e.comp
    mine = lambda lst: [x["emailAddress"] for x in lst if x["emailAddress"].endswith(  # noqa
        "@sort.test")]
    assert mine(expect(e.api.call("GET", q + "&sortBy=EMAILADDRESS"), 200)) == [
        "s-a@sort.test", "s-b@sort.test", "s-c@sort.test"]
    assert mine(expect(e.api.call("GET", q), 200)) == [
        "s-a@sort.test", "s-c@sort.test", "s-b@sort.test"], "timeCreated, newest first"
    assert mine(expect(e.api.call("GET", q + "&sortBy=TIMECREATED&sortOrder=ASC"), 200)) == [
        "s-b@sort.test", "s-c@sort.test", "s-a@sort.test"]
    g = expect(e.api.call("GET", "/20170907/senders/" + made[0]["id"]), 200)
    assert g["timeCreated"] == made[0]["timeCreated"], g
    for s in made:
        expect(e.api.call("DELETE", "/20170907/senders/" + s["id"]), 204)


# ---- issue 9: a new tenant at once, etags

def phctl_refused(st, *args):
    """phctl ARGS must fail with exit 1; its message on stderr"""
    p = subprocess.run([os.path.join(BIN, "phctl"), "--config", st.config_path, *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, "phctl %s: exit %d, %s" % (args, p.returncode, p.stdout)
    return p.stderr


def test_new_tenant_usable_at_once():
    """Issue 9: 'phctl tenant add' then 'phctl sender add' with no other step;
    the tenancy OCID is the root compartment: phctl --compartment, a user's
    default, POST /senders and submitEmail / submitRawEmail accept it."""
    e = env()
    t = e.st.phctl("tenant", "add", "t2")
    s = e.st.phctl("sender", "add", "t2", "a@b.example")
    assert (s["tenant_id"], s["compartment_id"]) == (t["id"], t["id"]), s
    comps = e.st.phctl("compartment", "list", "t2")
    assert [(c["id"], c["tenant_id"], c["name"]) for c in comps] == [
        (t["id"], t["id"], "t2")], comps
    s2 = e.st.phctl("sender", "add", "t2", "c@b.example", "--compartment", t["id"])
    assert s2["compartment_id"] == t["id"], s2
    assert "root compartment" in phctl_refused(e.st, "compartment", "del", t["id"])
    u = e.st.phctl("user", "add", "t2", "u-t2")
    assert u["compartment_ids"] == [t["id"]], u
    kid, pem = make_api_key(e.st, u["id"])
    api = HttpsApi(e.st, kid, pem)
    tid = uuid.uuid4().hex
    d = mail(sender={"senderAddress": {"email": "a@b.example"}, "compartmentId": t["id"]},
             subject="t2 " + tid, headerFields={"X-Test-Id": tid})
    wait_until(lambda: api.call("POST", SUBMIT, d)[0] == 200, 10, "t2's key and sender")
    wait_until(lambda: any(tid.encode() in m for m in e.sink.messages()), 30, "t2's message")
    raw = ("From: c@b.example\nTo: bob@dest.test\nSubject: t2 raw\nX-Test-Id: %s-raw\n\n"
           "raw\n" % tid).encode()
    expect(api.call("POST", RAW, raw, headers={
        "content-type": "message/rfc822", "compartment-id": t["id"], "sender": "c@b.example",
        "recipients": "bob@dest.test"}), 200)
    wait_until(lambda: any(b"%s-raw" % tid.encode() in m for m in e.sink.messages()), 30,
               "t2's raw message")
    x = expect(api.call("POST", "/20170907/senders", {"compartmentId": t["id"],
                                                      "emailAddress": "d@b.example"}), 200)
    assert x["compartmentId"] == t["id"], x
    listed = expect(api.call("GET", "/20170907/senders?compartmentId=" + t["id"]), 200)
    assert sorted(i["emailAddress"] for i in listed) == [
        "a@b.example", "c@b.example", "d@b.example"], listed
    api.close()
    e.st.phctl("tenant", "del", t["id"])


def test_etag_and_if_match():
    """Issue 9: single resources carry an etag (the same on create and GET,
    another once the resource changed); update and delete honour if-match:
    a wrong or stale etag is 412 NoEtagMatch and changes nothing, the
    current one (or "*") goes through."""
    e = env()
    api = e.api
    s = api.call("POST", "/20170907/senders", {"compartmentId": e.comp,
                                               "emailAddress": "etag@source.test"})
    etag = s[2].get("etag", "")
    assert s[0] == 200 and len(etag) == 32, s
    g = api.call("GET", "/20170907/senders/" + s[1]["id"])
    assert g[2].get("etag") == etag, (g, etag)
    path = "/20170907/senders/" + s[1]["id"]
    expect(api.call("DELETE", path, headers={"if-match": WRONG_ETAG}), 412, "NoEtagMatch",
           NO_ETAG_MATCH)
    expect(api.call("GET", path, headers={"if-match": WRONG_ETAG}), 412, "NoEtagMatch",
           NO_ETAG_MATCH)
    expect(api.call("DELETE", path, headers={"if-match": etag}), 204)
    expect(api.call("GET", path), 404)
    x = api.call("POST", "/20170907/suppressions", {"compartmentId": e.tenant,
                                                    "emailAddress": "etag@dest.test"})
    assert x[0] == 200 and x[2]["etag"] == api.call(
        "GET", "/20170907/suppressions/" + x[1]["id"])[2]["etag"], x
    expect(api.call("DELETE", "/20170907/suppressions/" + x[1]["id"],
                    headers={"if-match": "*"}), 204)
    # an email domain: the 202 of its create shows it CREATING; once ACTIVE
    # its etag is another, and an update makes a third
    dom = "etag-%s.test" % uuid.uuid4().hex[:8]
    r = api.call("POST", "/20170907/emailDomains", {"name": dom, "compartmentId": e.comp})
    d = r[1]
    base = "https://127.0.0.1:%d/20170907/emailDomains/" % e.st.https_port
    assert (r[2]["location"], r[2]["content-location"]) == (base + d["id"], base + d["id"]), r
    created = r[2]["etag"]
    work_request(api, r, "CREATE_EMAIL_DOMAIN", "emailDomain", "CREATED", d["id"])
    path = "/20170907/emailDomains/" + d["id"]
    g = api.call("GET", path)
    assert g[1]["lifecycleState"] == "ACTIVE" and g[2]["etag"] not in ("", created), g
    expect(api.call("PUT", path, {"description": "no"}, headers={"if-match": created}), 412,
           "NoEtagMatch", NO_ETAG_MATCH)
    r = api.call("PUT", path, {"description": "yes"}, headers={"if-match": g[2]["etag"]})
    work_request(api, r, "UPDATE_EMAIL_DOMAIN", "emailDomain", "UPDATED", d["id"])
    g2 = api.call("GET", path)
    assert g2[1]["description"] == "yes" and g2[2]["etag"] == r[2]["etag"], (g2, r)
    # a DKIM key of it
    r = api.call("POST", "/20170907/dkims", {"emailDomainId": d["id"], "name": "etag1"})
    work_request(api, r, "CREATE_DKIM", "dkim", "CREATED", r[1]["id"])
    assert r[2]["location"].endswith("/20170907/dkims/" + r[1]["id"]), r
    kpath = "/20170907/dkims/" + r[1]["id"]
    k = api.call("GET", kpath)
    assert len(k[2]["etag"]) == 32, k
    expect(api.call("DELETE", kpath, headers={"if-match": WRONG_ETAG}), 412, "NoEtagMatch",
           NO_ETAG_MATCH)
    expect(api.call("GET", kpath), 200)
    expect(api.call("DELETE", path, headers={"if-match": g[2]["etag"]}), 412, "NoEtagMatch",
           NO_ETAG_MATCH)
    r = api.call("DELETE", path, headers={"if-match": g2[2]["etag"]})
    work_request(api, r, "DELETE_EMAIL_DOMAIN", "emailDomain", "DELETED", d["id"])
    expect(api.call("GET", kpath), 404)


# ---- raw MIME

def test_submit_raw_email():
    e = env()
    tid = uuid.uuid4().hex
    msg = ("From: Alice <alice@source.test>\nTo: bob@dest.test\nSubject: raw %s\n"
           "X-Test-Id: %s\n\nraw body\n" % (tid, tid)).encode()
    hdr = {"content-type": "message/rfc822", "compartment-id": e.comp,
           "sender": "alice@source.test", "recipients": "bob@dest.test, gone2@dest.test"}
    e.api.call("POST", "/20170907/suppressions", {"compartmentId": e.tenant,
                                                  "emailAddress": "gone2@dest.test"})
    wait_until(lambda: e.api.call("POST", RAW, msg, headers=dict(hdr))[1].get(
        "suppressedRecipients") == ["gone2@dest.test"], 10, "the raw submission")
    wait_until(lambda: any(tid.encode() in m for m in e.sink.messages()), 30, "the raw message")
    m = [m for m in e.sink.messages() if tid.encode() in m][0]
    assert b"\n\nraw body\n" in m and b"\nMessage-ID: <" in m, m
    bad = dict(hdr, sender="mallory@source.test")
    expect(e.api.call("POST", RAW, msg, headers=bad), 404, "NotAuthorizedOrNotFound",
           "Authorization failed: address mallory@source.test not authorized or not found")
    forged = msg.replace(b"From: Alice <alice@source.test>", b"From: eve@source.test")
    expect(e.api.call("POST", RAW, forged, headers=dict(hdr)), 404, "NotAuthorizedOrNotFound",
           "Authorization failed: address eve@source.test not authorized or not found")
    expect(e.api.call("POST", RAW, msg, headers=dict(hdr, recipients="")), 400,
           "MissingParameter",
           "Required attribute recipients must contain either to , cc or bcc recipients.")


# ---- 429 and 503 on a stack of their own

def test_too_many_requests_429_and_503():
    procs = Procs()
    try:
        sink = SmtpSink(procs, "/tmp")
        cfg = "[httpd]\nclient_rate = 3\nqueue_timeout = 1000ms\n"
        with Stack("https429", sink_port=sink.port, config=cfg) as st:
            st.start()
            wait_port(st.https_port)
            u = st.phctl("user", "list")[0]
            st.phctl("sender", "add", u["tenant_id"], "alice@source.test")
            kid, pem = make_api_key(st, u["id"])
            api = HttpsApi(st, kid, pem)
            wait_until(lambda: api.call("GET", "/20170907/configuration?compartmentId=" +
                                        u["tenant_id"])[0] == 200, 10, "the key")
            d = mail(sender={"senderAddress": {"email": "alice@source.test"},
                             "compartmentId": u["compartment_ids"][0]})
            pids = [st.pid("ph-queue", i) for i in (0, 1)]
            for p in pids:
                os.kill(p, signal.SIGSTOP)
            try:
                # every queue shard unavailable: 503 with retry-after (README)
                r = api.call("POST", SUBMIT, d)
                expect(r, 503, "ServiceUnavailable", "Service Unavailable")
                assert r[2]["retry-after"] == "5", r
            finally:
                for p in pids:
                    os.kill(p, signal.SIGCONT)
            r = api.call("POST", SUBMIT, d)
            while r[0] != 429:
                assert r[0] in (200, 503), r
                r = api.call("POST", SUBMIT, d)
            expect(r, 429, "TooManyRequests", "Too many requests received. Wait and try again.")
            assert int(r[2]["retry-after"]) >= 1
    finally:
        procs.stop_all()


# ---- the real OCI TypeScript SDK

def npm_install():
    tests = os.path.dirname(HERE)
    if os.path.isdir(os.path.join(tests, "node_modules", "oci-emaildataplane")):
        return True
    if shutil.which("npm") is None:
        return False
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=tests,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        print(p.stderr[-2000:])
        return False
    return True


def test_oci_typescript_sdk():
    e = env()
    # CI and developers reach the npm registry: a missing SDK is a failure
    assert shutil.which("node") is not None, "node is not installed (scripts/install-deps.sh)"
    assert npm_install(), "npm install of the OCI SDK (tests/package.json) failed"
    tid = uuid.uuid4().hex
    keyfile = os.path.join(e.st.root, "sdk-key.pem")
    with open(keyfile, "wb") as f:
        f.write(e.api.key_pem)
    tenancy, user, fp = e.api.key_id.split("/")
    env_ = dict(os.environ, NODE_EXTRA_CA_CERTS=os.path.join(e.st.data, "tls", "cert.pem"),
                PH_ENDPOINT="https://127.0.0.1:%d" % e.st.https_port, PH_TENANCY=tenancy,
                PH_USER=user, PH_FINGERPRINT=fp, PH_KEY_FILE=keyfile, PH_COMPARTMENT=e.comp,
                PH_TEST_ID=tid, PH_WORKDIR=e.st.root)
    p = subprocess.run(["node", os.path.join(HERE, "oci_sdk.mjs")], env=env_,
                       capture_output=True, text=True, timeout=120)
    lines = p.stdout.strip().splitlines()
    assert lines, "oci_sdk.mjs printed nothing:\n" + p.stderr
    out = json.loads(lines[-1])
    assert out["submit"]["suppressedRecipients"] == [{"email": "sdk-gone@dest.test"}], out
    assert out["raw"]["suppressedRecipients"] == ["sdk-gone@dest.test"], out
    wait_until(lambda: len([m for m in e.sink.messages() if tid.encode() in m]) >= 2, 30,
               "both SDK messages at the sink")
    got = [m for m in e.sink.messages() if tid.encode() in m]
    assert all(b"sdk-gone@" not in m.split(b"Received:")[0] for m in got)
    assert all(b"X-Rcpt-Args: <sdk-ok@dest.test>" in m for m in got)
    dom = "sdk-%s.test" % tid[:8]
    assert out["domain"]["name"] == dom and out["domain"]["lifecycleState"] == "CREATING", out
    for wr, op, ident in ((out["domainWr"], "CREATE_EMAIL_DOMAIN", out["domain"]["id"]),
                          (out["dkimWr"], "CREATE_DKIM", out["dkim"]["id"]),
                          (out["updateWr"], "UPDATE_EMAIL_DOMAIN", out["domain"]["id"])):
        assert (wr["status"], wr["operationType"], wr["resources"][0]["identifier"]) == (
            "SUCCEEDED", op, ident), wr
    assert out["dkim"]["dnsSubdomainName"] == "sdk1._domainkey." + dom, out["dkim"]
    assert out["dkim"]["cnameRecordValue"] == "sdk1.%s.%s" % (dom, ZONE), out["dkim"]
    assert [k["name"] for k in out["dkims"]] == ["sdk1"], out["dkims"]
    # issue 9: etags on single resources; if-match honoured
    et = out["etags"]
    assert all(len(et.get(k) or "") == 32 for k in (
        "createSender", "getSender", "createDkim", "getDkim", "createDomain", "getDomain",
        "updatedDomain")), et
    assert et["createSender"] == et["getSender"], et
    assert len({et["createDomain"], et["getDomain"], et["updatedDomain"]}) == 3, et
    refused = {"status": 412, "code": "NoEtagMatch", "message": NO_ETAG_MATCH}
    assert out["wrongEtag"] == refused and out["staleUpdate"] == refused, out
    assert out["deleted"]["status"] == 404, out["deleted"]
    # the 202 of createEmailDomain: CREATING, where it is; then ACTIVE
    uri = "https://127.0.0.1:%d/20170907/emailDomains/%s" % (e.st.https_port,
                                                           out["domain"]["id"])
    assert out["domainCreated"] == {"location": uri, "contentLocation": uri,
                                    "state": "CREATING"}, out["domainCreated"]
    assert out["domainNow"] == {"state": "ACTIVE", "description": "updated by the SDK"}, out
    assert out["configuration"]["smtpSubmitEndpoint"] == "127.0.0.1:%d" % (
        e.st.submission_port), out["configuration"]
    # last, as the script checks it last: submitRawEmail's messageId is bare
    assert p.returncode == 0, "oci_sdk.mjs failed:\n" + p.stderr[-3000:]


def test_clean_shutdown():
    e = env()
    e.api.close()
    rc = e.st.stop()
    e.procs.stop_all()
    e.st.assert_clean_log()
    assert rc == 0, "supervisor exit %r" % rc


if __name__ == "__main__":
    run_tests([test_submit_email_arrives, test_request_id_echoed_and_minted,
               test_invalid_parameter_messages, test_missing_parameter_messages,
               test_sender_not_approved_404, test_message_over_byte_limit_413,
               test_limit_exceeded_per_minute_and_day, test_not_authenticated,
               test_hostile_bodies, test_suppression_reported_and_not_delivered,
               test_senders_crud_and_pagination, test_tenancy_isolation_and_configuration,
               test_new_tenant_usable_at_once, test_etag_and_if_match,
               test_unknown_path_404, test_email_domain_and_dkim_keys,
               test_refused_change_is_a_failed_work_request, test_senders_time_created_and_sort,
               test_submit_raw_email, test_oci_typescript_sdk,
               test_too_many_requests_429_and_503, test_clean_shutdown])
