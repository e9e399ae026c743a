"""phtest - start a real posthaste stack and real peers for integration tests.

Every test gets its own temp dir, config file and free loopback ports; every
process it starts is stopped by PID at the end (also when the test fails).
Run with Debian's /usr/bin/python3 (aiosmtpd, dkim are Debian packages).
"""
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("PH_BIN_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "bin")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def wait_port(port, timeout=20):
    def up():
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
        wait_port(self.port)

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


class Stack:
    """A whole posthaste installation under a temp dir, started by its supervisor."""

    def __init__(self, name, sink_port=None, config="", relays=1, smtpd=1,
                 queues=2, ratelimiters=1, tcp=False):
        self.name = name
        self.root = tempfile.mkdtemp(prefix="ph-%s-" % name)
        self.data = os.path.join(self.root, "var")
        self.smtp_port = free_port()
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

[relay]
routes = {routes}

""".format(data=self.data, control=control_ep, control_pub=control_pub_ep, rl=rl_eps, queue=queue_eps, relays=relays,
           smtpd=smtpd, smtp=self.smtp_port, routes=routes)
        self.config_text = merge_ini(text, config)
        with open(self.config_path, "w") as f:
            f.write(self.config_text)

    # -- life cycle
    def start(self, timeout=40):
        env = dict(os.environ, PH_BIN_DIR=BIN)
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


class RawSmtp:
    """A plain SMTP client that returns each reply's last line verbatim
    ("455 Maximum messages ..."), for tests that assert exact replies, and
    can tell which server process holds its connection (SO_REUSEPORT)."""

    def __init__(self, port, helo="client.test", timeout=30):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.banner = self.reply()
        self.ehlo = self.cmd("EHLO " + helo)

    def reply(self):
        while True:
            line = self.file.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                raise AssertionError("connection closed by the server")
            if len(line) < 4 or line[3] != "-":
                return line

    def cmd(self, line):
        self.sock.sendall(line.encode("latin-1") + b"\r\n")
        return self.reply()

    def send_mail(self, sender, rcpt, subject="test", body="hello"):
        """One transaction; the reply to the end of DATA (or the first
        refusal before it)."""
        for line, want in (("MAIL FROM:<%s>" % sender, "250"), ("RCPT TO:<%s>" % rcpt, "250"),
                           ("DATA", "354")):
            r = self.cmd(line)
            if not r.startswith(want):
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


def event_records(data_dir, category):
    """The JSON records of event log CATEGORY ("accepted", "relayed")."""
    path = os.path.join(data_dir, "log", category + ".log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]
