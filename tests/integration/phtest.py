"""phtest - start a real posthaste stack and real peers for integration tests.

Every test gets its own temp dir, config file and free loopback ports; every
process it starts is stopped by PID at the end (also when the test fails).
Run with Debian's /usr/bin/python3 (aiosmtpd, dkim are Debian packages).
"""
import base64
import fcntl
import glob
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("PH_BIN_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "bin")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


# Test ports come from one counter shared by every test process (ctest runs
# scripts in parallel) and lie below the kernel's ephemeral range, so no other
# test and no outgoing connection can take a port between free_port() and the
# bind of the process it is meant for.
PORT_FIRST, PORT_LAST = 20000, 32000
PORT_COUNTER = os.path.join(tempfile.gettempdir(), "posthaste-test-ports")


def free_port():
    return free_ports(1)


def free_ports(n):
    """N consecutive free ports (e.g. a stack's [health] block); the first."""
    fd = os.open(PORT_COUNTER, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for _ in range(PORT_LAST - PORT_FIRST):
            raw = os.pread(fd, 16, 0).strip()
            port = int(raw) if raw.isdigit() else PORT_FIRST
            if port + n - 1 > PORT_LAST:
                port = PORT_FIRST
            nxt = port + n if port + n <= PORT_LAST else PORT_FIRST
            os.pwrite(fd, b"%-15d\n" % nxt, 0)
            if all(_bindable(p) for p in range(port, port + n)):
                return port
        raise RuntimeError("no %d free test ports in %d-%d" % (n, PORT_FIRST, PORT_LAST))
    finally:
        os.close(fd)


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def wait_port(port, timeout=20, proc=None):
    """Wait until PORT takes connections; with PROC, the one listening must be
    that process (it would have exited on a failed bind)."""
    def up():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited (%s) before listening on %d"
                               % (proc.args[0], proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False
    wait_until(up, timeout, "port %d" % port)


class Procs:
    """Processes started by a test, stopped by PID in reverse order."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log, **kw):
        f = open(log, "ab")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, **kw)
        self.procs.append((p, f))
        return p

    def stop_all(self):
        for p, f in reversed(self.procs):
            stop_pid(p)
            f.close()
        self.procs = []


def stop_pid(p, timeout=20):
    if p.poll() is not None:
        return p.returncode
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


class SmtpSink:
    """Postfix's smtp-sink, dumping every message to its own file (-d)."""

    def __init__(self, procs, workdir, port=None, extra=()):
        self.port = port or free_port()
        self.dir = os.path.join(workdir, "sink-%d" % self.port)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)
        argv = ["smtp-sink", "-u", "nobody", "-d", self.dir + "/%H%M%S.", "-c",
                *extra, "127.0.0.1:%d" % self.port, "2048"]
        self.proc = procs.start(argv, os.path.join(workdir, "sink-%d.log" % self.port))
        wait_port(self.port, proc=self.proc)

    def files(self):
        return sorted(glob.glob(self.dir + "/*"))

    def messages(self):
        out = []
        for path in self.files():
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def header_values(self, name):
        """Every value of header NAME over all received messages."""
        rx = re.compile(rb"^" + re.escape(name.encode()) + rb":\s*(.*?)\r?$",
                        re.I | re.M)
        vals = []
        for m in self.messages():
            head = m.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
            vals += [v.decode("latin-1") for v in rx.findall(head)]
        return vals


HEALTH_BLOCK = 200   # [health] ports of one installation: base .. base+199
HEALTH_OFFSETS = {"ph-control": 0, "ph-ratelimiter": 40, "ph-queue": 80,
                  "ph-relay": 120, "ph-smtpd": 160}


class Stack:
    """A whole posthaste installation under a temp dir, started by its supervisor."""

    def __init__(self, name, sink_port=None, config="", relays=1, smtpd=1,
                 queues=2, ratelimiters=1, tcp=False, health=False):
        self.name = name
        self.root = tempfile.mkdtemp(prefix="ph-%s-" % name)
        self.data = os.path.join(self.root, "var")
        self.smtp_port = free_port()
        self.submission_port = free_port()
        self.tls_port = free_port()
        self.https_port = free_port()
        # [health] listen: off, or a block of ports of its own (the layout is
        # in health_port); off by default so that stacks never share one
        self.health_base = free_ports(HEALTH_BLOCK) if health else None
        self.sink_port = sink_port
        self.procs = Procs()
        self.sup = None
        run = os.path.join(self.data, "run")
        if tcp:
            # as in the cluster config: host names, servers bind every interface
            ep = lambda name: "tcp://localhost:%d" % free_port()  # noqa: E731
        else:
            ep = lambda name: "ipc://%s/%s.sock" % (run, name)  # noqa: E731
        queue_eps = ", ".join(ep("queue-%d" % i) for i in range(queues))
        rl_eps = ", ".join(ep("ratelimiter-%d" % i) for i in range(ratelimiters))
        control_ep, control_pub_ep = ep("control"), ep("control-pub")
        routes = "*.test=127.0.0.1:%d" % sink_port if sink_port else ""
        self.config_path = os.path.join(self.root, "posthaste.conf")
        text = """[global]
data_dir = {data}
log_level = info

[endpoints]
control = {control}
control_pub = {control_pub}
ratelimiter = {rl}
queue = {queue}

[supervisor]
relays = {relays}
smtpd = {smtpd}
ready_timeout = 20s

[smtpd]
listen = 127.0.0.1:{smtp}
submission_listen = 127.0.0.1:{submission}
tls_listen = 127.0.0.1:{tls}

[httpd]
listen = 127.0.0.1:{https}

[relay]
routes = {routes}

[health]
listen = {health}

""".format(data=self.data, control=control_ep, control_pub=control_pub_ep, rl=rl_eps, queue=queue_eps, relays=relays,
           smtpd=smtpd, smtp=self.smtp_port, routes=routes, https=self.https_port,
           submission=self.submission_port, tls=self.tls_port,
           health="127.0.0.1:%d" % self.health_base if health else "off")
        self.config_text = merge_ini(text, config)
        with open(self.config_path, "w") as f:
            f.write(self.config_text)

    # -- life cycle
    def start(self, timeout=40, env=None):
        """ENV: extra environment variables for every process of the stack
        (e.g. PH_FAULTS, common/fault.h)."""
        env = dict(os.environ, PH_BIN_DIR=BIN, **(env or {}))
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.sup = self.procs.start([os.path.join(BIN, "posthaste"), "run", "--config",
                                     self.config_path], self.log_path(), env=env)
        ready = os.path.join(self.data, "run", "ready")
        wait_until(lambda: os.path.exists(ready) or self.sup.poll() is not None,
                   timeout, "the stack to be ready")
        if self.sup.poll() is not None:
            raise AssertionError("supervisor exited: see " + self.log_path())
        wait_port(self.smtp_port)
        return self

    def log_path(self):
        return os.path.join(self.root, "posthaste.log")

    def health_port(self, name, instance=0):
        """The [health] port of process NAME ("ph-queue") and INSTANCE: the
        base plus the process kind's offset plus the instance (README)."""
        return self.health_base + HEALTH_OFFSETS[name] + instance

    def log(self):
        with open(self.log_path(), "r", errors="replace") as f:
            return f.read()

    def stop(self):
        rc = None
        if self.sup is not None:
            rc = stop_pid(self.sup, timeout=40)
        self.procs.stop_all()
        return rc

    def assert_clean_log(self):
        text = self.log()
        bad = [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKS)]
        assert not bad, "sanitizer reports in %s:\n%s" % (self.log_path(), "\n".join(bad[:20]))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if exc[0] is None:
            self.assert_clean_log()
        else:
            sys.stderr.write("--- tail of %s ---\n%s\n" % (self.log_path(), self.log()[-6000:]))
        return False

    # -- tools
    def pid(self, name, instance=0):
        path = os.path.join(self.data, "run", "%s-%d.pid" % (name, instance))
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def phctl(self, *args, check=True):
        argv = [os.path.join(BIN, "phctl"), "--config", self.config_path, "--json", *args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if check and p.returncode != 0:
            raise AssertionError("phctl %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                               p.stderr))
        try:
            return json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            return p.stdout

    def approve(self, *addresses, tenant="default"):
        """Make ADDRESSES approved senders of TENANT (trusted-network clients
        send as the tenant "default"); waits until the replicas had time to
        fetch the change."""
        for a in addresses:
            self.phctl("sender", "add", tenant, a)
        time.sleep(0.5)

    def queue_totals(self):
        return self.phctl("queue", "stats")["total"]

    def wait_drained(self, timeout=120):
        def drained():
            try:
                t = self.queue_totals()
            except AssertionError:
                return False
            return t.get("messages", 1) == 0
        wait_until(drained, timeout, "the queue to drain", interval=0.2)


def merge_ini(base, extra):
    """Append EXTRA's keys to BASE, replacing keys of the same section."""
    if not extra.strip():
        return base
    sections, order, cur = {}, [], None
    for text in (base, extra):
        cur = None
        for line in text.splitlines():
            s = line.strip()
            if s.startswith("[") and s.endswith("]"):
                cur = s[1:-1]
                if cur not in sections:
                    sections[cur] = {}
                    order.append(cur)
            elif "=" in s and cur is not None and not s.startswith("#"):
                k, v = s.split("=", 1)
                sections[cur][k.strip()] = v.strip()
    out = []
    for sec in order:
        out.append("[%s]" % sec)
        out += ["%s = %s" % kv for kv in sections[sec].items()]
        out.append("")
    return "\n".join(out)


def smtp_source(port, msgs, sessions=20, size=1024, sender="bench@source.test",
                rcpt="rcpt@dest.test", persist=True, timeout=300, extra=()):
    argv = ["smtp-source", "-s", str(sessions), "-m", str(msgs), "-l", str(size),
            "-f", sender, "-t", rcpt, "-M", "source.test", *extra]
    if persist:
        argv.append("-d")
    argv.append("127.0.0.1:%d" % port)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def run_tests(tests):
    """Run test functions in order; print a closing 'N passed, N failed' line."""
    passed = failed = 0
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        t0 = time.time()
        try:
            t()
            passed += 1
            print("PASS %s (%.1fs)" % (t.__name__, time.time() - t0), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            failed += 1
            import traceback
            traceback.print_exc()
            print("FAIL %s: %s" % (t.__name__, e), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def _tls_client():
    """TLS to a test server: its certificate is self-signed."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class RawSmtp:
    """A plain SMTP client that returns each reply's last line verbatim
    ("455 Maximum messages ..."), for tests that assert exact replies, and
    can tell which server process holds its connection (SO_REUSEPORT).
    TLS=True: implicit TLS from the first byte; starttls() upgrades. After a
    banner other than 220 it says nothing (the server is closing)."""

    def __init__(self, port, helo="client.test", timeout=30, tls=False):
        self.port, self.helo = port, helo
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = _tls_client().wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")
        self.banner = self.reply()
        self.ehlo = self.cmd("EHLO " + helo) if self.banner.startswith("220") else None

    def reply(self):
        while True:
            line = self.file.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                raise AssertionError("connection closed by the server")
            if len(line) < 4 or line[3] != "-":
                return line

    def at_eof(self):
        """The server closed the connection (and sent nothing more)."""
        try:
            return self.file.readline() == b""
        except (ConnectionError, ssl.SSLError):
            return True

    def starttls(self):
        """STARTTLS; on 220 the TLS handshake and a new EHLO. The reply."""
        r = self.cmd("STARTTLS")
        if r.startswith("220"):
            self.file.close()
            self.sock = _tls_client().wrap_socket(self.sock)
            self.file = self.sock.makefile("rb")
            self.ehlo = self.cmd("EHLO " + self.helo)
        return r

    def auth_plain(self, user, password):
        token = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
        return self.cmd("AUTH PLAIN " + token)

    def cmd(self, line):
        self.sock.sendall(line.encode("latin-1") + b"\r\n")
        return self.reply()

    def send_mail(self, sender, rcpt, subject="test", body="hello"):
        """One transaction; the reply to the end of DATA (or the first
        refusal before it; after a 421 the server has closed)."""
        for line, want in (("MAIL FROM:<%s>" % sender, "250"), ("RCPT TO:<%s>" % rcpt, "250"),
                           ("DATA", "354")):
            r = self.cmd(line)
            if not r.startswith(want):
                if not r.startswith("421"):
                    self.cmd("RSET")
                return r
        data = "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n%s\r\n." % (
            sender, rcpt, subject, body)
        return self.cmd(data)

    def server_pid(self, pids):
        """Which of PIDS owns the server side of this connection (read the
        banner first: the socket must have been accepted)."""
        mine = self.sock.getsockname()[1]
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for row in f.readlines()[1:]:
                    col = row.split()
                    local, remote = int(col[1].split(":")[1], 16), int(col[2].split(":")[1], 16)
                    if local == self.port and remote == mine:
                        inodes.add("socket:[%s]" % col[9])
        for pid in pids:
            fd_dir = "/proc/%d/fd" % pid
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(os.path.join(fd_dir, fd)) in inodes:
                        return pid
                except OSError:
                    continue
        return None

    def close(self):
        try:
            self.cmd("QUIT")
        except (OSError, AssertionError):
            pass
        self.file.close()
        self.sock.close()


EVENTLOG_FLUSH_S = 0.2   # processes write their event logs every 50 ms


def event_records(data_dir, category):
    """The JSON records of event log CATEGORY ("accepted", "relayed") written
    up to now: it first waits out the processes' event-log flush interval."""
    time.sleep(EVENTLOG_FLUSH_S)
    path = os.path.join(data_dir, "log", category + ".log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


class HttpsApi:
    """An OCI-signing HTTPS client of a Stack's ph-httpd (keep-alive, the
    stack's self-signed certificate trusted). make_api_key() creates an RSA key
    for USER_ID with phctl and returns (key_id, private_pem)."""

    def __init__(self, stack, key_id, key_pem):
        import http.client
        import ssl
        self.stack, self.key_id, self.key_pem = stack, key_id, key_pem
        ctx = ssl.create_default_context(cafile=os.path.join(stack.data, "tls", "cert.pem"))
        ctx.check_hostname = False
        self._mk = lambda: http.client.HTTPSConnection("127.0.0.1", stack.https_port,
                                                       context=ctx, timeout=30)
        self.conn = self._mk()

    def call(self, method, path, body=None, headers=None, sign=True, **signkw):
        """(status, parsed JSON or raw bytes, response headers as a lowercase dict)"""
        import ocisign
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        url = "https://127.0.0.1:%d%s" % (self.stack.https_port, path)
        h = dict(headers or {})
        if sign:
            h = ocisign.sign(method, url, h, body, self.key_id, self.key_pem, **signkw)
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (ConnectionError, OSError):
                self.conn.close()
                self.conn = self._mk()
                if attempt:
                    raise
        rh = {k.lower(): v for k, v in r.getheaders()}
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data
        return r.status, parsed, rh

    def close(self):
        self.conn.close()


def make_api_key(stack, user_id):
    """An RSA key uploaded with 'phctl apikey add'; returns (key_id, private PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    path = os.path.join(stack.root, "apikey-%s.pem" % user_id[-8:])
    with open(path, "wb") as f:
        f.write(pub)
    with open(path + ".key", "wb") as f:
        f.write(priv)
    out = stack.phctl("apikey", "add", user_id, path)
    return out["key_id"], priv


class Dnsmasq:
    """dnsmasq on 127.0.0.1:PORT answering only from LINES (dnsmasq options
    such as "cname=a,b" or 'txt-record=name,"text"'). dnsmasq does not re-read
    --conf-file on SIGHUP, so set_records restarts it on the same port."""

    def __init__(self, procs, workdir, lines=(), port=None):
        self.procs = procs
        self.port = port or free_port()
        self.conf = os.path.join(workdir, "dnsmasq-%d.conf" % self.port)
        self.log = os.path.join(workdir, "dnsmasq-%d.log" % self.port)
        self.proc = None
        self.set_records(lines)

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def set_records(self, lines):
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        if self.proc is not None:
            stop_pid(self.proc)
        self.proc = self.procs.start(
            ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
             "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1",
             "--port=%d" % self.port, "--conf-file=" + self.conf, "--user=",
             "--pid-file="], self.log)
        wait_until(lambda: self._answers(), 10, "dnsmasq on port %d" % self.port)

    def _answers(self):
        # any reply to a UDP query (REFUSED is fine) means it is serving
        q = bytes.fromhex("abcd01000001000000000000") + b"\x04ping\x04test\x00\x00\x10\x00\x01"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(q, ("127.0.0.1", self.port))
                return s.recv(512)[:2] == q[:2]
            except OSError:
                return False


def txt_record_line(name, text):
    """A dnsmasq txt-record option for TEXT, split into 255-byte strings."""
    parts = [text[i:i + 255] for i in range(0, len(text), 255)]
    return "txt-record=%s,%s" % (name, ",".join('"%s"' % p for p in parts))


class PySink:
    """An aiosmtpd sink (Debian's /usr/bin/python3, a subprocess) that records
    every message as JSON {mail_from ("" = null sender), rcpt_tos, data} in DIR
    and answers RCPT
    from RULES: {address: [reply, reply, ...]}, one reply per attempt at that
    address, the last one repeating ("250" accepts). Every RCPT it saw is in
    rcpt_log() as [address, reply] pairs."""

    def __init__(self, procs, workdir, rules=None, port=None):
        self.port = port or free_port()
        self.dir = os.path.join(workdir, "pysink-%d" % self.port)
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "rules.json"), "w") as f:
            json.dump(rules or {}, f)
        self.proc = procs.start(["/usr/bin/python3", os.path.abspath(__file__), "--pysink",
                                 self.dir, str(self.port)],
                                os.path.join(workdir, "pysink-%d.log" % self.port))
        wait_port(self.port, proc=self.proc)

    def messages(self):
        return _sink_messages(self.dir)

    def rcpt_log(self):
        path = os.path.join(self.dir, "rcpt.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]


def _pysink_main(directory, port):
    """The PySink process: aiosmtpd's Controller on 127.0.0.1:PORT."""
    import asyncio
    from aiosmtpd.controller import Controller
    with open(os.path.join(directory, "rules.json")) as f:
        rules = {k.lower(): v for k, v in json.load(f).items()}
    seen, count = {}, [0]

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            a = address.lower()
            replies = rules.get(a, ["250"])
            n = seen.get(a, 0)
            seen[a] = n + 1
            reply = replies[min(n, len(replies) - 1)]
            with open(os.path.join(directory, "rcpt.log"), "a") as f:
                f.write(json.dumps([address, reply]) + "\n")
            if reply.startswith("250"):
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 OK"
            return reply

        async def handle_DATA(self, server, session, envelope):
            count[0] += 1
            sender = "" if envelope.mail_from in ("<>", None) else envelope.mail_from
            m = {"mail_from": sender, "rcpt_tos": envelope.rcpt_tos,
                 "data": envelope.original_content.decode("latin-1")}
            path = os.path.join(directory, "msg-%06d.json" % count[0])
            with open(path + ".tmp", "w") as f:
                json.dump(m, f)
            os.rename(path + ".tmp", path)
            return "250 2.0.0 Ok: queued"

    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    ctl.stop()


if __name__ == "__main__" and sys.argv[1:2] == ["--pysink"]:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    _pysink_main(sys.argv[2], int(sys.argv[3]))


# ---- issue 5, relay side: peers with STARTTLS, chosen addresses, scripted
# replies, and the certificates they need ----

def make_ca(workdir, name):
    """A test CA: returns (cert_path, key_path)."""
    cert, key = os.path.join(workdir, name + "-ca.pem"), os.path.join(workdir, name + "-ca.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    "/CN=posthaste test CA " + name, "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def make_cert(workdir, ca, hostname):
    """A server certificate for HOSTNAME (CN and DNS SAN) signed by CA
    (cert, key) from make_ca: returns (cert_path, key_path)."""
    base = os.path.join(workdir, "%s-by-%s" % (hostname, os.path.basename(ca[0])[:-7]))
    ext = base + ".ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n" % hostname)
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-subj", "/CN=" + hostname, "-keyout", base + ".key",
                    "-out", base + ".csr"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", base + ".csr", "-CA", ca[0], "-CAkey",
                    ca[1], "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
                    base + ".pem"], check=True, capture_output=True)
    return base + ".pem", base + ".key"


class PeerSink:
    """An aiosmtpd peer (a subprocess) on HOST:PORT (any 127.x.y.z), offering
    STARTTLS when CERT=(cert, key) is given. Every accepted connection is a
    line {"t": unix time} in connections(); every message a JSON file
    {mail_from, rcpt_tos, data, tls_version, tls_cipher} (the peer's view of
    the TLS of that session; "" in plain text). set_reply("421 4.3.2 ...")
    makes it answer MAIL FROM with that reply until set_reply(None).
    BROKEN_TLS: STARTTLS is offered but every handshake fails (TLS 1.2 with
    a PSK-only cipher list: no cipher in common)."""

    def __init__(self, procs, workdir, host="127.0.0.1", port=None, cert=None,
                 broken_tls=False):
        self.host, self.port = host, port or free_port()
        self.dir = os.path.join(workdir, "peersink-%s-%d" % (host, self.port))
        os.makedirs(self.dir, exist_ok=True)
        argv = ["/usr/bin/python3", os.path.abspath(__file__), "--peersink", self.dir, host,
                str(self.port), "broken" if broken_tls else "ok"] + (list(cert) if cert else [])
        self.proc = procs.start(argv, self.dir + ".log")
        wait_until(lambda: self._up(), 20, "peer sink %s:%d" % (host, self.port))

    def _up(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                s.recv(100)
                return True
        except OSError:
            return False

    def set_reply(self, reply):
        path = os.path.join(self.dir, "reply")
        with open(path + ".tmp", "w") as f:
            f.write(reply or "")
        os.rename(path + ".tmp", path)

    def connections(self):
        path = os.path.join(self.dir, "conns.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def messages(self):
        return _sink_messages(self.dir)


def _peersink_main(directory, host, port, tls_mode, cert=None, key=None):
    """The PeerSink process."""
    import ssl
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP
    count = [0]
    reply_path = os.path.join(directory, "reply")

    def scripted():
        try:
            with open(reply_path) as f:
                return f.read().strip()
        except OSError:
            return ""

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            r = scripted()
            if r:
                return r
            envelope.mail_from = address
            return "250 2.1.0 Ok"

        async def handle_DATA(self, server, session, envelope):
            count[0] += 1
            ssl_obj = server.transport.get_extra_info("ssl_object")
            m = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                 "data": envelope.original_content.decode("latin-1"),
                 "tls_version": ssl_obj.version() if ssl_obj else "",
                 "tls_cipher": ssl_obj.cipher()[0] if ssl_obj else ""}
            path = os.path.join(directory, "msg-%06d.json" % count[0])
            with open(path + ".tmp", "w") as f:
                json.dump(m, f)
            os.rename(path + ".tmp", path)
            return "250 2.0.0 Ok: queued"

    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            with open(os.path.join(directory, "conns.log"), "a") as f:
                f.write(json.dumps({"t": time.time()}) + "\n")
            super().connection_made(transport)

    class PeerController(Controller):
        def factory(self):
            return CountingSMTP(self.handler, **self.SMTP_kwargs)

    kw = {}
    if cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        if tls_mode == "broken":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("PSK-AES128-CBC-SHA")
        kw = {"tls_context": ctx, "require_starttls": False}
    ctl = PeerController(Handler(), hostname=host, port=port, ready_timeout=20, **kw)
    ctl.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    ctl.stop()


if __name__ == "__main__" and sys.argv[1:2] == ["--peersink"]:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    _peersink_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:8])


def _sink_messages(directory):
    """The msg-*.json files a Python sink (PySink, PeerSink) wrote to DIRECTORY,
    in order, "data" as bytes."""
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "msg-*.json"))):
        with open(path) as f:
            m = json.load(f)
        m["data"] = m["data"].encode("latin-1")
        out.append(m)
    return out
