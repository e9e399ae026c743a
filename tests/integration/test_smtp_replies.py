#!/usr/bin/python3
"""Issue 3: ph-smtpd behaves like the documented submission endpoint.

Every row of the seed's SMTP reply table from a real trigger, asserted
verbatim (over TLS where the row needs an authenticated session); real
clients (smtplib starttls+login, swaks PLAIN and LOGIN, a private Postfix
relaying with SASL over mandatory TLS); TLS 1.1 and renegotiation refused;
no AUTH before STARTTLS; no open relay; a hostile corpus that must not crash
or leak anything (pids unchanged, the suite runs under ASan/LSan).

Three stacks: "main" (most rows), "limits" (two ph-smtpd, small limits:
connections, auth failures, 455), "untrusted" (127.0.0.1 outside
trusted_networks; ends without a policy replica), all started
lazily and stopped at the end.
"""
import base64
import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import uuid

from phtest import (Procs, SmtpSink, Stack, event_records, free_port, run_tests,
                    wait_port, wait_until)

SENDER = "alice@source.test"
STACKS = {}
PROCS = Procs()


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Raw:
    """A line-level SMTP client: exact reply lines, pipelining, STARTTLS."""

    def __init__(self, port, tls=False, src=None, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(src, 0) if src else None)
        if tls:
            self.sock = tls_ctx().wrap_socket(self.sock)
        self.buf = b""
        self.banner = self.reply()

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def reply(self):
        """Every line of one reply; the last one is returned alone by cmd()."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()[-1]

    def ehlo(self):
        self.send("EHLO client.test\r\n")
        return [l[4:] for l in self.reply()]

    def starttls(self):
        r = self.cmd("STARTTLS")
        assert r == "220 Ready to start TLS", r
        assert self.buf == b"", "data after the 220"
        self.sock = tls_ctx().wrap_socket(self.sock)

    def closed(self):
        try:
            self.sock.settimeout(5)
            return self.sock.recv(1) == b""
        except (ConnectionError, ssl.SSLError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def plain(user, password, authzid=""):
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode()).decode()


def b64(text):
    return base64.b64encode(text.encode()).decode()


def make_stack(name, config, smtpd=1, senders=(SENDER,)):
    sink = SmtpSink(PROCS, "/tmp")
    st = Stack(name, sink_port=sink.port, config=config, smtpd=smtpd)
    STACKS[name] = st
    st.start()
    u = st.phctl("user", "add", "default", "smtp-user", "--compartment", "default")
    st.user_id = u["id"] if isinstance(u, dict) else u[0]["id"]
    st.cred = st.phctl("credential", "create", st.user_id)
    st.sink = sink
    st.approve(*senders)
    return st


def main():
    if "main" not in STACKS:
        make_stack("main", """
[smtpd]
command_timeout = 2s
data_timeout = 2s
queue_timeout = 1500ms
ratelimit_timeout = 1000ms
max_message_size = 300000
auth_fail_limit = 1000
""", senders=(SENDER, "x@source.test", "bench@source.test"))
        STACKS["main"].phctl("suppression", "add", "default", "gone@dest.test")
        time.sleep(0.5)
    return STACKS["main"]


def authed(st, port=None, tls=False):
    """A Raw session past STARTTLS (or implicit TLS) and AUTH PLAIN."""
    c = Raw(port or st.submission_port, tls=tls)
    c.ehlo()
    if not tls:
        c.starttls()
        c.ehlo()
    r = c.cmd("AUTH PLAIN " + plain(st.cred["username"], st.cred["password"]))
    assert r == "235 2.7.0 Authentication successful", r
    return c


def message(tid, sender=SENDER, rcpt="bob@dest.test"):
    return ("From: %s\r\nTo: %s\r\nSubject: t %s\r\nMessage-ID: <%s@source.test>\r\n"
            "X-Test-Id: %s\r\n\r\nbody\r\n" % (sender, rcpt, tid, tid, tid))


def to_data(c, sender=SENDER, rcpts=("bob@dest.test",)):
    assert c.cmd("MAIL FROM:<%s>" % sender) == "250 2.1.0 Ok"
    for r in rcpts:
        assert c.cmd("RCPT TO:<%s>" % r).startswith("25")
    r = c.cmd("DATA")
    assert r.startswith("354 "), r


def accepted(st, pred):
    return [r for r in event_records(st.data, "accepted") if pred(r.get("data", r))]


def assert_logged(st, error_type, status):
    """An accepted-log record with ERROR_TYPE and smtpStatus STATUS exists."""
    def found():
        return accepted(st, lambda d: d.get("errorType") == error_type and
                        d.get("smtpStatus") == status)
    wait_until(found, 10, "accepted log errorType %r / %r" % (error_type, status))


# -- ports, TLS, EHLO ----------------------------------------------------------

def test_ehlo_submission_no_auth_before_tls():
    st = main()
    c = Raw(st.submission_port)
    ext = c.ehlo()
    assert "STARTTLS" in ext and not any(e.startswith("AUTH") for e in ext), ext
    for e in ("PIPELINING", "SIZE 300000", "8BITMIME", "ENHANCEDSTATUSCODES"):
        assert e in ext, (e, ext)
    c.starttls()
    ext = c.ehlo()
    assert "AUTH PLAIN LOGIN" in ext and "STARTTLS" not in ext, ext
    c.close()


def test_530_auth_before_starttls():
    c = Raw(main().submission_port)
    c.ehlo()
    r = c.cmd("AUTH PLAIN " + plain("u", "p"))
    assert r == "530 5.7.0 Must issue a STARTTLS command first", r
    c.close()


def test_smtplib_starttls_login_delivers():
    st = main()
    tid = uuid.uuid4().hex
    with smtplib.SMTP("127.0.0.1", st.submission_port, timeout=30) as s:
        s.starttls(context=tls_ctx())
        s.login(st.cred["username"], st.cred["password"])
        assert s.sendmail(SENDER, ["bob@dest.test"], message(tid)) == {}
    with smtplib.SMTP_SSL("127.0.0.1", st.tls_port, timeout=30, context=tls_ctx()) as s:
        s.login(st.cred["username"], st.cred["password"])
        assert s.sendmail(SENDER, ["bob@dest.test"], message(tid + "-465")) == {}
    ids = lambda: st.sink.header_values("X-Test-Id")
    wait_until(lambda: tid in ids() and tid + "-465" in ids(), 30, "both messages at the sink")


def test_swaks_plain_and_login():
    st = main()
    for mech in ("PLAIN", "LOGIN"):
        tid = uuid.uuid4().hex
        p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(st.submission_port),
                            "--tls", "--auth", mech, "--auth-user", st.cred["username"],
                            "--auth-password", st.cred["password"], "--from", SENDER,
                            "--to", "bob@dest.test", "--header", "X-Test-Id: " + tid,
                            "--header", "From: " + SENDER],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "235 2.7.0 Authentication successful" in p.stdout, p.stdout
        wait_until(lambda: tid in st.sink.header_values("X-Test-Id"), 30, "swaks " + mech)


def postfix_instance(root, relay_port, user, password):
    conf, spool, data = (os.path.join(root, d) for d in ("etc", "spool", "data"))
    for d in (conf, spool, data):
        os.makedirs(d)
    os.chmod(root, 0o755)
    shutil.copy("/etc/postfix/master.cf.proto" if os.path.exists("/etc/postfix/master.cf.proto")
                else "/etc/postfix/master.cf", os.path.join(conf, "master.cf"))
    open(os.path.join(conf, "main.cf"), "w").close()
    shutil.chown(data, "postfix")
    with open(os.path.join(conf, "sasl_passwd"), "w") as f:
        f.write("[127.0.0.1]:%d %s:%s\n" % (relay_port, user, password))
    port = free_port()
    pc = lambda *a: subprocess.run(["postconf", "-c", conf, *a], check=True,
                                   capture_output=True, timeout=30)
    pc("-e", "compatibility_level = 3.6", "queue_directory = " + spool,
       "data_directory = " + data, "maillog_file_prefixes = " + root,
       "maillog_file = %s/maillog" % root, "mail_owner = postfix", "setgid_group = postdrop",
       "myhostname = client.pf.test", "mydomain = pf.test", "mydestination =",
       "local_recipient_maps =", "alias_maps =", "alias_database =",
       "local_transport = error:local delivery is disabled", "inet_interfaces = 127.0.0.1",
       "inet_protocols = ipv4", "mynetworks = 127.0.0.0/8",
       "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
       "relayhost = [127.0.0.1]:%d" % relay_port, "smtp_tls_security_level = encrypt",
       "smtp_tls_loglevel = 1",
       "smtp_sasl_auth_enable = yes",
       "smtp_sasl_password_maps = hash:%s/sasl_passwd" % conf,
       "smtp_sasl_security_options = noanonymous",
       "smtp_sasl_tls_security_options = noanonymous", "biff = no")
    pc("-M#", "smtp/inet")
    pc("-M", "127.0.0.1:%d/inet = 127.0.0.1:%d inet n - n - - smtpd" % (port, port))
    pc("-F", "*/*/chroot = n")
    subprocess.run(["postmap", "-c", conf, "hash:%s/sasl_passwd" % conf], check=True,
                   timeout=30)
    subprocess.run(["postfix", "-c", conf, "start"], check=True, capture_output=True, timeout=60)
    return conf, port


def test_postfix_relays_with_sasl_over_tls():
    st = main()
    root = tempfile.mkdtemp(prefix="ph-postfix-")
    conf = None
    try:
        conf, port = postfix_instance(root, st.submission_port, st.cred["username"],
                                      st.cred["password"])
        wait_port(port)
        tid = uuid.uuid4().hex
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            assert s.sendmail(SENDER, ["bob@dest.test"], message(tid)) == {}
        wait_until(lambda: tid in st.sink.header_values("X-Test-Id"), 60,
                   "the message relayed by Postfix at the sink")

        def maillog():
            with open(os.path.join(root, "maillog"), errors="replace") as f:
                return f.read()
        wait_until(lambda: "status=sent" in maillog(), 30, "Postfix to log the delivery")
        log = maillog()
        assert "relay=127.0.0.1[127.0.0.1]:%d" % st.submission_port in log, log[-2000:]
        assert "TLS connection established to 127.0.0.1[127.0.0.1]:%d" % st.submission_port \
            in log, log[-2000:]
    finally:
        if conf:
            subprocess.run(["postfix", "-c", conf, "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def s_client(port, *args, stdin=b"Q\n", timeout=20):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, *args],
                       input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode("latin-1")


def test_tls11_refused():
    st = main()
    # the client may offer TLS 1.1 only at security level 0
    rc, out = s_client(st.tls_port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert rc != 0 and "alert protocol version" in out, out[-1500:]
    rc, out = s_client(st.submission_port, "-starttls", "smtp", "-tls1_1",
                       "-cipher", "DEFAULT@SECLEVEL=0")
    assert rc != 0 and "alert protocol version" in out, out[-1500:]
    rc, out = s_client(st.tls_port, "-tls1_2")
    assert rc == 0 and "Protocol  : TLSv1.2" in out, out[-1500:]


def test_renegotiation_refused():
    st = main()
    pid = st.pid("ph-smtpd")
    # STARTTLS: the server is silent after the handshake, so the client's
    # renegotiation ClientHello meets only the server's refusal
    rc, out = s_client(st.submission_port, "-starttls", "smtp", "-tls1_2", stdin=b"R\n",
                       timeout=30)
    assert "RENEGOTIATING" in out, out[-1500:]
    after = out.split("RENEGOTIATING", 1)[1]
    assert "no renegotiation" in after, out[-1500:]
    assert st.pid("ph-smtpd") == pid
    c = authed(st, port=st.tls_port, tls=True)
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_starttls_command_injection_fails():
    st = main()
    c = Raw(st.submission_port)
    c.ehlo()
    c.send("STARTTLS\r\nRSET\r\nNOOP\r\n")
    r = c.reply()[-1]
    assert r == "220 Ready to start TLS", r
    c.sock = tls_ctx().wrap_socket(c.sock)
    c.buf = b""
    # the first reply under TLS must be the EHLO's, not the injected RSET's
    c.send("EHLO client.test\r\n")
    first = c.line()
    assert first.startswith("250-") and "Ok" not in first, first
    c.close()


# -- AUTH rows -----------------------------------------------------------------

def tls_session(st):
    c = Raw(st.submission_port)
    c.ehlo()
    c.starttls()
    c.ehlo()
    return c


def assert_replies(c, lines, want, close=True):
    """each of LINES is answered exactly WANT; then C is closed (CLOSE)"""
    for line in lines:
        r = c.cmd(line)
        assert r == want, (line, r)
    if close:
        c.close()


def test_501_not_base64():
    c = tls_session(main())
    r = c.cmd("AUTH PLAIN not*base64")
    assert r == "501 Invalid command argument, not a valid Base64 string", r
    assert c.cmd("AUTH PLAIN") == "334 "
    r = c.cmd("%%%%")
    assert r == "501 Invalid command argument, not a valid Base64 string", r
    c.close()


def test_501_no_nul():
    assert_replies(tls_session(main()), ["AUTH PLAIN " + b64("userpassword")],
                   "501 Invalid command argument, does not contain NUL")


def test_501_no_second_nul():
    assert_replies(tls_session(main()), ["AUTH PLAIN " + b64("user\0password")],
                   "501 Invalid command argument, does not contain the second NUL")


def test_504_method_not_supported():
    assert_replies(tls_session(main()),
                   ["AUTH " + m for m in ("CRAM-MD5", "XOAUTH2 dG9rZW4=", "DIGEST-MD5", "GSSAPI")],
                   "504 Method not supported")


def test_504_auth_mechanism_mismatch():
    assert_replies(tls_session(main()),
                   ("AUTH", "AUTH  ", "AUTH PL@IN", "AUTH PLAIN a b", "AUTH <junk>"),
                   "504 AUTH mechanism mismatch")


def test_535_credentials_invalid():
    st = main()
    c = tls_session(st)
    assert_replies(c, ["AUTH PLAIN " + plain(st.cred["username"], "wrong-password"),
                       "AUTH PLAIN " + plain("ocid1.user.oc1..nobody@ocid1.tenancy.oc1..x", "pw"),
                       "AUTH PLAIN " + plain(st.cred["username"], st.cred["password"],
                                             "someone-else")],
                   "535 Authentication credentials invalid", close=False)
    assert c.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
    assert c.cmd(b64(st.cred["username"])) == "334 UGFzc3dvcmQ6"
    assert c.cmd(b64("nope")) == "535 Authentication credentials invalid"
    assert c.cmd("AUTH LOGIN " + b64(st.cred["username"])) == "334 UGFzc3dvcmQ6"
    assert c.cmd(b64(st.cred["password"])) == "235 2.7.0 Authentication successful"
    c.close()


def test_535_authentication_required():
    st = main()
    c = tls_session(st)     # the submission port trusts nobody, not even 127.0.0.1
    assert_replies(c, ("MAIL FROM:<%s>" % SENDER, "RCPT TO:<bob@dest.test>", "DATA"),
                   "535 Authentication required")


def test_535_authorization_failed():
    st = main()
    c = authed(st)
    r = c.cmd("MAIL FROM:<mallory@source.test>")
    assert r == "535 Authorization failed: address mallory@source.test not authorized", r
    to_data(c)
    c.send("From: %s, mallory@elsewhere.test\r\nSubject: x\r\n\r\nbody\r\n.\r\n" % SENDER)
    r = c.reply()[-1]
    assert r == "535 Authorization failed: address mallory@elsewhere.test not authorized", r
    c.close()
    # trusted-network clients pass the same checks (tenant "default")
    c = Raw(st.smtp_port)
    c.ehlo()
    r = c.cmd("MAIL FROM:<not-approved@source.test>")
    assert r == "535 Authorization failed: address not-approved@source.test not authorized", r
    c.close()
    assert_logged(st, "Authorization failure",
                  "535 Authorization failed: address mallory@source.test not authorized")
    assert_logged(st, "Authorization failure",
                  "535 Authorization failed: address mallory@elsewhere.test not authorized")


# -- transaction rows ----------------------------------------------------------

def test_254_suppression():
    st = main()
    tid = uuid.uuid4().hex
    c = authed(st)
    assert c.cmd("MAIL FROM:<%s>" % SENDER) == "250 2.1.0 Ok"
    r = c.cmd("RCPT TO:<gone@dest.test>")
    assert r == "254 4.7.1 Suppression for user %s to gone@dest.test" % st.user_id, r
    assert c.cmd("RCPT TO:<bob@dest.test>") == "250 2.1.5 bob@dest.test and options Ok"
    assert c.cmd("DATA").startswith("354 ")
    c.send(message(tid, rcpt="gone@dest.test, bob@dest.test") + ".\r\n")
    r = c.reply()[-1]
    assert r.startswith("250 2.0.0 Ok: queued as "), r
    c.close()
    wait_until(lambda: tid in st.sink.header_values("X-Test-Id"), 30, "the message at the sink")
    st.wait_drained(30)
    relayed = [r.get("data", r) for r in event_records(st.data, "relayed")]
    assert not [d for d in relayed if d.get("recipient") == "gone@dest.test"], relayed
    assert [d for d in relayed if d.get("recipient") == "bob@dest.test"], relayed
    assert_logged(st, "Recipient suppressed",
                  "254 4.7.1 Suppression for user %s to gone@dest.test" % st.user_id)


def test_503_need_rcpt():
    c = authed(main())
    assert c.cmd("MAIL FROM:<%s>" % SENDER) == "250 2.1.0 Ok"
    assert c.cmd("DATA") == "503 Need RCPT command"
    assert c.cmd("RCPT TO:<bad@@x>") == "553 <bad@@x> Invalid email address"
    assert c.cmd("DATA") == "503 Need RCPT command"
    c.close()


def test_553_invalid_address():
    st = main()
    c = authed(st)
    assert c.cmd("MAIL FROM:<not an address>") == "553 <not an address> Invalid email address"
    assert c.cmd("MAIL FROM:<%s>" % SENDER) == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<a@@b.test>") == "553 <a@@b.test> Invalid email address"
    c.close()
    assert_logged(st, "Invalid Recipient", "553 <a@@b.test> Invalid email address")


def test_552_exceeds_byte_limit():
    st = main()
    c = authed(st)
    assert c.cmd("MAIL FROM:<%s> SIZE=300001" % SENDER) == "552 Exceeds byte limit"
    to_data(c)
    c.send(message("big") + ("x" * 998 + "\r\n") * 320 + ".\r\n")
    assert c.reply()[-1] == "552 Exceeds byte limit"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()
    assert_logged(st, "Byte limit exceeded", "552 Exceeds byte limit")


def test_554_message_parse_error():
    st = main()
    c = authed(st)
    bodies = ["just a body line\r\n",                        # no header block
              "From: %s\r\nno colon here\r\n\r\nb\r\n" % SENDER,  # header line without colon
              "Subject: no from\r\n\r\nb\r\n",                  # no From
              "From: %s\r\n" % SENDER + "X-Long: " + "y" * 900 + "\r\n" +
              ("X-More: " + "z" * 990 + "\r\n") * 270 + "\r\nb\r\n"]   # header > 256 KB
    for i, body in enumerate(bodies):
        to_data(c)
        c.send(body + ".\r\n")
        r = c.reply()[-1]
        assert r == "554 Message parse error", (i, r)
    c.close()
    assert_logged(st, "Message parse error", "554 Message parse error")


def test_421_timeout():
    st = main()
    c = authed(st)
    time.sleep(2.5)
    assert c.line() == "421 Timeout waiting for data from client"
    assert c.closed()
    c = authed(st)
    to_data(c)
    c.send("From: %s\r\n" % SENDER)
    time.sleep(2.5)
    assert c.line() == "421 Timeout waiting for data from client"
    c.close()


def test_451_server_error_ratelimiter_down():
    st = main()
    rl = st.pid("ph-ratelimiter")
    c = authed(st)
    to_data(c)
    os.kill(rl, signal.SIGSTOP)
    try:
        c.send(message("rl-down") + ".\r\n")
        assert c.reply()[-1] == "451 Server error"
    finally:
        os.kill(rl, signal.SIGCONT)
    c.close()


def test_452_system_storage_error():
    st = main()
    pids = [st.pid("ph-queue", i) for i in range(2)]
    c = authed(st)
    to_data(c)
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        c.send(message("no-shard") + ".\r\n")
        assert c.reply()[-1] == "452 System storage error"
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    c.close()
    # meanwhile ph-smtpd saw every shard lost (new connections: 421 4.3.2);
    # the next test needs it serving again
    wait_until(lambda: Raw(st.smtp_port).banner[-1].startswith("220 "), 15, "ph-smtpd serving")


# -- hostile input -------------------------------------------------------------

def test_hostile_corpus_no_crash():
    st = main()
    names = ("ph-smtpd", "ph-queue", "ph-ratelimiter", "ph-control")
    pids = {n: st.pid(n) for n in names}
    corpus = [
        b"EHLO a\nMAIL FROM:<x@source.test>\nRCPT TO:<b@dest.test>\nDATA\nFrom: x@source.test\n\n"
        b"bare LF body\n.\nQUIT\n",
        b"EHLO a\r\nMAIL FROM:<x@source\x00.test>\r\nNO\x00OP\r\n\x00\x00\x00\r\nQUIT\r\n",
        b"EHLO " + b"A" * (1 << 20) + b"\r\nNOOP\r\nQUIT\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(4000) + b"\r\nQUIT\r\n",
        b"EHLO a\r\n" + b"RCPT TO:<a@b>\r\nDATA\r\nAUTH PLAIN ====\r\nSTARTTLS junk\r\n" * 2000
        + b"QUIT\r\n",
        b"EHLO a\r\nMAIL FROM:<x@source.test>\r\nRCPT TO:<b@dest.test>\r\nDATA\r\n"
        b"From: x@source.test\r\n\r\n" + (b"L" * (1 << 20) + b"\r\n") + b".\r\nQUIT\r\n",
        b"EHLO a\r\nSTARTTLS\r\n" + os.urandom(3000),
        b"EHLO a\r\nAUTH LOGIN\r\n" + b"Z" * 5000 + b"\r\nQUIT\r\n",
    ]
    for data in corpus:
        for port in (st.smtp_port, st.submission_port):
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            try:
                s.sendall(data)
                s.settimeout(5)
                while s.recv(65536):
                    pass
            except (socket.timeout, ConnectionError):
                pass
            finally:
                s.close()
    # half-closed sockets: mid-command, mid-DATA, mid-TLS-handshake, after STARTTLS
    for port, data in ((st.smtp_port, b"EHLO a\r\nMAIL FROM:<x@source.test>\r\nRCPT TO:<b@dest.test>"
                        b"\r\nDATA\r\nFrom: x@source.test\r\n\r\npartial"),
                       (st.tls_port, b"\x16\x03\x01"),
                       (st.submission_port, b"EHLO a\r\nSTARTTLS\r\n"),
                       (st.submission_port, b"EHLO a\r\nAUTH")):
        s = socket.create_connection(("127.0.0.1", port), timeout=15)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.3)
        s.close()
    # a TLS client that vanishes while its AUTH is being checked
    c = tls_session(st)
    c.send("AUTH PLAIN " + plain(st.cred["username"], st.cred["password"]) + "\r\n")
    c.close()
    time.sleep(1.0)
    for n, p in pids.items():
        assert st.pid(n) == p, n + " was restarted: it crashed"
    c = authed(st)
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_421_shutdown_mail_system_failure():
    st = main()
    c = authed(st)
    os.kill(st.pid("ph-smtpd"), signal.SIGTERM)
    assert c.line() == "421 4.3.0 Mail system failure, closing transmission channel"
    c.close()


# -- limits stack: two ph-smtpd sharing the ratelimiter ------------------------

def limits():
    if "limits" not in STACKS:
        make_stack("limits", """
[smtpd]
max_connections_per_ip = 3
auth_fail_limit = 3
""", smtpd=2)
    return STACKS["limits"]


def test_421_too_many_connections():
    st = limits()
    # two ph-smtpd share the port: each counts its own connections; 8 are too many
    conns = [socket.create_connection(("127.0.0.1", st.smtp_port), timeout=10,
                                      source_address=("127.0.0.5", 0)) for _ in range(8)]
    banners = []
    for s in conns:
        banners.append(s.recv(512).decode())
        s.close()
    assert "421 Too many connections, try again later\r\n" in banners, banners
    assert any(b.startswith("220 ") for b in banners), banners


def test_421_too_many_auth_failures():
    st = limits()
    src = "127.0.0.2"
    for i in range(3):      # three failures, spread over both instances by the kernel
        c = Raw(st.submission_port, src=src)
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.cmd("AUTH PLAIN " + plain(st.cred["username"], "bad%d" % i))
        assert r == "535 Authentication credentials invalid", (i, r)
        c.close()
    for _ in range(4):      # whichever instance: the right password is refused now
        c = Raw(st.submission_port, src=src)
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.cmd("AUTH PLAIN " + plain(st.cred["username"], st.cred["password"]))
        assert r == "421 Too many auth failures, try again later", r
        assert c.closed()
    # another address is not affected; refused senders count as failures too
    src = "127.0.0.3"
    for i in range(3):
        c = Raw(st.smtp_port, src=src)
        c.ehlo()
        r = c.cmd("MAIL FROM:<nope%d@source.test>" % i)
        assert r == "535 Authorization failed: address nope%d@source.test not authorized" % i, r
        c.close()
    c = Raw(st.smtp_port, src=src)
    c.ehlo()
    assert c.cmd("MAIL FROM:<nope@source.test>") == "421 Too many auth failures, try again later"
    c.close()
    c = Raw(st.submission_port, src=src)
    c.ehlo()
    c.starttls()
    c.ehlo()
    r = c.cmd("AUTH PLAIN " + plain(st.cred["username"], st.cred["password"]))
    assert r == "421 Too many auth failures, try again later", r
    c.close()


def send_one(st, tid):
    c = Raw(st.smtp_port, src="127.0.0.4")
    c.ehlo()
    to_data(c)
    c.send(message(tid) + ".\r\n")
    r = c.reply()[-1]
    c.close()
    return r


def test_455_per_minute_and_per_day():
    st = limits()
    st.phctl("limits", "set", "default", "--per-minute", "2", "--per-day", "3")
    time.sleep(0.5)
    assert send_one(st, "m1").startswith("250 ")
    assert send_one(st, "m2").startswith("250 ")
    r = send_one(st, "m3")
    assert r == "455 Maximum messages sent per minute reached : limit is 2", r
    st.phctl("limits", "set", "default", "--per-minute", "100", "--per-day", "3")
    time.sleep(0.5)
    assert send_one(st, "m4").startswith("250 ")
    r = send_one(st, "m5")
    assert r == "455 Maximum messages sent per day reached : limit is 3", r
    assert_logged(st, "Sender Rate Limit reached",
                  "455 Maximum messages sent per minute reached : limit is 2")
    assert_logged(st, "Daily Limit reached",
                  "455 Maximum messages sent per day reached : limit is 3")


# -- untrusted stack: no open relay, then the policy replica goes away ---------

def untrusted():
    if "untrusted" not in STACKS:
        make_stack("untrusted", """
[smtpd]
trusted_networks = 10.255.255.0/24
""")
    return STACKS["untrusted"]


def test_no_open_relay():
    st = untrusted()
    c = Raw(st.smtp_port)
    ext = c.ehlo()
    assert not any(e.startswith("AUTH") for e in ext), ext
    assert c.cmd("MAIL FROM:<%s>" % SENDER) == "535 Authentication required"
    assert c.cmd("RCPT TO:<victim@elsewhere.test>") == "535 Authentication required"
    c.starttls()
    c.ehlo()
    assert c.cmd("MAIL FROM:<%s>" % SENDER) == "535 Authentication required"
    assert c.cmd("DATA") == "535 Authentication required"
    c.close()
    # with credentials the relay port accepts, after STARTTLS
    c = authed(st, port=st.smtp_port)
    assert c.cmd("MAIL FROM:<%s>" % SENDER) == "250 2.1.0 Ok"
    c.close()


def test_no_listener_until_policy_replica():
    """A (restarted) ph-smtpd without its policy replica does not listen at
    all (issue 9: its MAIL and AUTH used to get 421 4.4.0, now reached only
    in the unit tests) and the supervisor has no ready mark; it listens and
    authenticates as soon as ph-control answers again."""
    st = untrusted()
    control, smtpd = st.pid("ph-control"), st.pid("ph-smtpd")
    os.kill(control, signal.SIGSTOP)
    try:
        os.kill(smtpd, signal.SIGKILL)    # the new ph-smtpd gets no snapshot
        wait_until(lambda: st.pid("ph-smtpd") not in (None, smtpd), 30, "ph-smtpd restarted")
        time.sleep(2)
        for port in (st.smtp_port, st.submission_port, st.tls_port):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                raise AssertionError("port %d listens without a policy replica" % port)
            except ConnectionRefusedError:
                pass
        assert not os.path.exists(os.path.join(st.data, "run", "ready"))
    finally:
        os.kill(control, signal.SIGCONT)
    wait_port(st.submission_port)
    authed(st).close()


def cleanup():
    failures = []
    for st in STACKS.values():
        st.stop()
        try:
            st.assert_clean_log()
        except AssertionError as e:
            failures.append(str(e))
    PROCS.stop_all()
    if failures:
        raise AssertionError("\n".join(failures))


if __name__ == "__main__":
    try:
        run_tests([
            test_ehlo_submission_no_auth_before_tls, test_530_auth_before_starttls,
            test_smtplib_starttls_login_delivers, test_swaks_plain_and_login,
            test_postfix_relays_with_sasl_over_tls, test_tls11_refused,
            test_renegotiation_refused, test_starttls_command_injection_fails,
            test_501_not_base64, test_501_no_nul, test_501_no_second_nul,
            test_504_method_not_supported, test_504_auth_mechanism_mismatch,
            test_535_credentials_invalid, test_535_authentication_required,
            test_535_authorization_failed, test_254_suppression, test_503_need_rcpt,
            test_553_invalid_address, test_552_exceeds_byte_limit,
            test_554_message_parse_error, test_421_timeout,
            test_451_server_error_ratelimiter_down, test_452_system_storage_error,
            test_hostile_corpus_no_crash, test_421_shutdown_mail_system_failure,
            test_421_too_many_connections, test_421_too_many_auth_failures,
            test_455_per_minute_and_per_day, test_no_open_relay,
            test_no_listener_until_policy_replica])
    finally:
        cleanup()
