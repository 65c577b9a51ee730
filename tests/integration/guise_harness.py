"""Integration-test harness for guised (python3 standard library only).

Every test file in this folder is a plain unittest module that ends with
``guise_harness.main()``; meson runs it with the environment variables
GUISE_BUILD_DIR and GUISE_SOURCE_DIR set (see meson.build). The pieces:

Workdir
    A private temporary directory (mode 0755, removed at the end) with helpers
    to create files and directories with an owner, group, mode and POSIX ACL
    entries, and symlinks. ``make_wav`` writes a small PCM tone.

Config
    Builds a guised INI file: ``cfg.server[key] = value`` for [server],
    ``cfg.plugin(name, **props)`` for [plugin "name"], ``cfg.point(name, path,
    **keys)`` for [publishing-point "name"]. Python keyword arguments use '_'
    where the file uses '-' (``max_uri_length=256``). A list value repeats
    the key. ``Config.render()`` returns the text.

Guised
    One server process: it picks a free port (``free_port()``, reserved
    against other test processes) unless the config has a listen key, adds
    ``event-log = stderr``, an access log in the work directory and, when not
    root, ``impersonation = off``; writes the config into the work directory,
    starts ``guised -c FILE`` with stderr (the event log) captured to a file,
    and waits until the port accepts connections and the "started" event is
    there. ``stop()`` sends SIGTERM and returns the exit status;
    ``stop_clean()`` asserts it is 0. ``events()`` is the event log so far,
    ``wait_for_event(regex)`` polls it, ``wait_for_access(regex)`` polls the
    access log (written when a request completes, possibly just after the
    client saw the answer), ``reload(config)`` rewrites the file (same port)
    and sends SIGHUP, waiting for the reload event. ``url(path)`` gives
    http(s)://HOST:PORT/path.

Clients
    ``curl(url, ...)`` runs the real curl binary and returns a Response
    (status, headers in order, body). ``raw_request(port, bytes)`` and
    ``http_request(port, method, target, headers)`` speak HTTP/1.1 over a
    plain socket for request targets curl would rewrite.

Service account (root only)
    A root-started guised switches to the system account ``guise``
    (``SERVICE_ACCOUNT``; ``ensure_service_account()`` creates it as ``make
    install`` does). The work directory belongs to it, state directories in
    it are handed to it, and files and directories the test writes as root
    without an owner get group guise with the owner's read/search bits, so
    the server reads what root could; ``service_readable(path)`` does the
    same for files a tool made (keys, keytabs, user files).

Accounts (root only)
    ``TestAccounts`` creates system users and groups named ``guise-t-*``
    (uids >= 1000) with useradd/groupadd and removes them when the last test
    process using them is done. Several test processes may use them at once:
    a lock file serialises creation and deletion and a shared lock marks
    every user. The default set: guise-t-alice and guise-t-carol in group
    guise-t-staff, guise-t-bob not (constants ALICE, BOB, CAROL, STAFF).
    ``require_root(what)`` prints "SKIP: ... needs root" and raises
    unittest.SkipTest when not running as root.

GuiseTestCase
    A unittest.TestCase with a class work directory (``cls.work``) and
    ``start_guised`` helpers (per class or per test) that stop the server at
    the end and fail the test when it did not exit cleanly (status 0).

``main()`` runs the module's tests and exits 0 (pass), 1 (failure) or 77
(everything skipped: meson's skip code).

The example plug-in "hello" (``HELLO_PLUGIN``) authenticates a client that
sends ``Authorization: Hello NAME:SECRET`` as NAME impersonating the
configured account; ``hello_config()`` and ``hello_auth()`` set it up.

A new test file (register it in meson.build)::

    import guise_harness as gh

    class Example(gh.GuiseTestCase):
        @classmethod
        def setUpClass(cls):
            super().setUpClass()
            cls.work.write("pub/a.txt", "a\n")
            cfg = gh.Config(authentication="anonymous digest", authorization="fs-acl")
            cfg.plugin("digest", user_file=cls.work.join("users.htdigest"))
            cfg.point("pub", cls.work.join("pub"))
            cls.srv = cls.start_guised_class(cfg)

        def test_get(self):
            r = gh.curl(self.srv.url("/pub/a.txt"), "--digest", "-u", "alice:pw")
            self.assertEqual(r.status, 200)

    if __name__ == "__main__":
        gh.main()
"""

import errno
import fcntl
import grp
import math
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import wave

# ---- locations -------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("GUISE_SOURCE_DIR") or os.path.normpath(os.path.join(_HERE, "..", ".."))
BUILD_DIR = os.environ.get("GUISE_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
GUISED = os.path.join(BUILD_DIR, "src", "server", "guised")
HELLO_PLUGIN = os.path.join(BUILD_DIR, "examples", "hello-plugin", "guise-hello.so")
GUISECTL = os.path.join(BUILD_DIR, "src", "cli", "guisectl")
CURL = shutil.which("curl") or "/usr/bin/curl"

HELLO_SECRET = "integration-secret-42"

# Lock files coordinating test processes (accounts, ports). /run/lock is
# world-writable (sticky) on Debian, so unprivileged runs share it too.
_LOCK_DIR = "/run/lock" if os.access("/run/lock", os.W_OK) else tempfile.gettempdir()

# Accounts the tests create (the prefix is reserved for them).
ACCOUNT_PREFIX = "guise-t-"
ALICE = "guise-t-alice"
BOB = "guise-t-bob"
CAROL = "guise-t-carol"
STAFF = "guise-t-staff"


def is_root():
    return os.geteuid() == 0


def require_root(what):
    """Skips (loudly) the calling test or class unless running as root."""
    if not is_root():
        print(f"SKIP: {what} needs root", flush=True)
        raise unittest.SkipTest(f"{what} needs root")


_ports_fd = None
_ports_held = set()


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now (the kernel's choice), reserved
    for this process against other test processes until it exits: guised
    binds with SO_REUSEPORT, so two servers given the same port would both
    start and share its connections instead of one failing. The reservation
    is a POSIX lock on byte PORT of one shared lock file."""
    global _ports_fd
    if _ports_fd is None:
        path = os.path.join(_LOCK_DIR, "guise-integration-ports.lock")
        try:
            # O_CREAT on another user's file in a sticky directory fails
            # (protected_regular): open an existing file without it.
            _ports_fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            _ports_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            os.fchmod(_ports_fd, 0o666)  # shared by root and unprivileged runs
        except PermissionError:
            path = os.path.join(tempfile.gettempdir(), f"guise-integration-ports-{os.getuid()}.lock")
            _ports_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port in _ports_held:
            continue
        try:
            fcntl.lockf(_ports_fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
        except OSError:
            continue
        _ports_held.add(port)
        return port
    raise RuntimeError("no free port")


# ---- files -------------------------------------------------------------------


def _uid(owner):
    if owner is None:
        return -1
    return owner if isinstance(owner, int) else pwd.getpwnam(owner).pw_uid


def _gid(group):
    if group is None:
        return -1
    return group if isinstance(group, int) else grp.getgrnam(group).gr_gid


def set_acl(path, *entries):
    """Adds POSIX ACL entries with setfacl -m, e.g. set_acl(p, 'u:guise-t-bob:r')."""
    for e in entries:
        subprocess.run(["setfacl", "-m", e, path], check=True)


def make_wav(path, seconds=1.0, freq=440.0, rate=8000):
    """Writes a mono 16-bit PCM WAV file with a sine tone (parents made)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    n = int(seconds * rate)
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n)
    )
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return path


# The account a root-started guised switches to (server-account's default).
SERVICE_ACCOUNT = "guise"


def ensure_service_account():
    """Creates the system account guised runs as when started by root, as
    `make install` does; a no-op when it exists or when not root."""
    if not is_root() or _exists_user(SERVICE_ACCOUNT):
        return
    mutex = os.open(_MUTEX, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(mutex, fcntl.LOCK_EX)
        if not _exists_user(SERVICE_ACCOUNT):
            _run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_ACCOUNT])
    finally:
        os.close(mutex)


def service_ids():
    """(uid, gid) of the service account (root only)."""
    ensure_service_account()
    p = pwd.getpwnam(SERVICE_ACCOUNT)
    return p.pw_uid, p.pw_gid


def service_readable(path, write=False):
    """Lets the service account of a root-started guised read (and with
    write, change) path, made by a tool as root: group guise, the owner's
    read and search bits (and write) for the group - how docs/SECURITY.md
    asks real installs to keep keys and keytabs. No-op when not root."""
    if not is_root():
        return path
    os.chown(path, -1, service_ids()[1])
    mode = os.stat(path).st_mode & 0o7777
    os.chmod(path, mode | (mode & (0o700 if write else 0o500)) >> 3)
    return path


class Workdir:
    """A temporary directory tree for one test class (or test)."""

    def __init__(self, prefix="guise-it-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        # Readable by every account: whether a test file is reachable must
        # depend on the modes the test sets, not on mkdtemp's 0700.
        os.chmod(self.path, 0o755)
        if is_root():
            # A root-started guised works as the service account: it creates
            # its access log, sockets and state files in here as that account.
            os.chown(self.path, *service_ids())

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def _apply(self, p, mode, owner, group, acl):
        if owner is None and group is None and is_root():
            # Written by root for the server (keys, user files, maps): what
            # root could read, the service account a root-started guised
            # switches to must read too. Group guise with the owner's read
            # and search bits, as docs/SECURITY.md asks of real installs;
            # no test user is in that group.
            group = SERVICE_ACCOUNT
            if mode is not None:
                mode |= (mode & 0o500) >> 3
        if owner is not None or group is not None:
            os.lchown(p, _uid(owner), _gid(group))
        if mode is not None:
            os.chmod(p, mode)
        if acl:
            set_acl(p, *acl)

    def mkdir(self, rel, mode=0o755, owner=None, group=None, acl=()):
        p = self.join(rel)
        os.makedirs(p, exist_ok=True)
        self._apply(p, mode, owner, group, acl)
        return p

    def write(self, rel, data, mode=0o644, owner=None, group=None, acl=()):
        """Creates a file (parents 0755); data is bytes or str (UTF-8)."""
        p = self.join(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        with open(p, "wb") as f:
            f.write(data)
        self._apply(p, mode, owner, group, acl)
        return p

    def symlink(self, rel, target):
        p = self.join(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


# ---- configuration -------------------------------------------------------------


def _key(k):
    return k.replace("_", "-")


class Config:
    """A guised configuration file under construction (see module doc)."""

    def __init__(self, **server):
        self.server = {_key(k): v for k, v in server.items()}
        self.plugins = {}
        self.points = {}
        self.extra = ""  # appended verbatim (for error tests)

    def plugin(self, name, **props):
        self.plugins.setdefault(name, {}).update({_key(k): v for k, v in props.items()})
        return self

    def point(self, name, path, **keys):
        d = {"path": path}
        d.update({_key(k): v for k, v in keys.items()})
        self.points[name] = d
        return self

    @staticmethod
    def _section(header, keys):
        out = [header]
        for k, v in keys.items():
            for one in v if isinstance(v, (list, tuple)) else [v]:
                out.append(f"{k} = {one}")
        return "\n".join(out) + "\n\n"

    def render(self):
        text = self._section("[server]", self.server)
        for name, props in self.plugins.items():
            text += self._section(f'[plugin "{name}"]', props)
        for name, keys in self.points.items():
            text += self._section(f'[publishing-point "{name}"]', keys)
        return text + self.extra

    def copy(self):
        c = Config()
        c.server = dict(self.server)
        c.plugins = {k: dict(v) for k, v in self.plugins.items()}
        c.points = {k: dict(v) for k, v in self.points.items()}
        c.extra = self.extra
        return c


def admin_over_tcp(cfg, group):
    """Puts cfg's admin listener on a free loopback port, administered by
    members of group (the server scope's plug-ins identify them); returns
    the port."""
    port = free_port()
    cfg.server["admin-listen"] = f"127.0.0.1:{port}"
    cfg.server["admin-group"] = group
    return port


def hello_config(cfg, account=ALICE, authentication="anonymous hello", secret=HELLO_SECRET):
    """Loads the example plug-in "hello" into cfg and lists it."""
    cfg.server["load"] = HELLO_PLUGIN
    if authentication is not None:
        cfg.server["authentication"] = authentication
    cfg.plugin("hello", secret=secret, account=account)
    return cfg


def hello_auth(user="alice", secret=HELLO_SECRET):
    """The Authorization header value of the hello scheme."""
    return f"Hello {user}:{secret}"


# ---- the server process ----------------------------------------------------------


class GuisedError(Exception):
    pass


class Guised:
    """One guised process (see module doc)."""

    def __init__(self, workdir, config, name="guised", tls=False):
        self.workdir = workdir
        self.config = config
        self.name = name
        self.tls = tls
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"
        self.config_path = workdir.join(f"{name}.conf")
        self.stderr_path = workdir.join(f"{name}.stderr")
        self.access_log = None
        self.returncode = None

    # -- configuration --
    def _prepare(self, cfg):
        cfg = cfg.copy()
        if "listen" not in cfg.server:
            # A reload keeps the port: listen addresses change only on restart.
            self.host = "127.0.0.1"
            if self.port is None:
                self.port = free_port()
            cfg.server["listen"] = f"127.0.0.1:{self.port}"
        else:
            # The first listen address is the one clients use.
            listen = cfg.server["listen"]
            first = listen[0] if isinstance(listen, (list, tuple)) else listen
            host, port = first.rsplit(":", 1)
            self.host = host.strip("[]")
            self.port = int(port)
        cfg.server.setdefault("event-log", "stderr")
        cfg.server.setdefault("access-log", self.workdir.join(f"{self.name}-access.log"))
        # The /.guise/ files (player.js, hls.min.js from npm) of this build.
        cfg.server.setdefault("assets-dir", os.path.join(BUILD_DIR, "assets"))
        self.access_log = cfg.server["access-log"]
        if is_root():
            # Directories the server writes as its service account, made by
            # the test as root inside the work directory: hand them over.
            state = cfg.server.get("admin-state")
            dirs = [cfg.server.get("state-directory"), os.path.dirname(state) if isinstance(state, str) else None]
            for d in dirs:
                if isinstance(d, str) and d.startswith(self.workdir.path + "/") and os.path.isdir(d):
                    os.chown(d, *service_ids())
        if not is_root():
            # Impersonation needs CAP_SETUID/CAP_SETGID.
            cfg.server.setdefault("impersonation", "off")
        return cfg

    def write_config(self, config=None):
        if config is not None:
            self.config = config
        text = self.config if isinstance(self.config, str) else self._prepare(self.config).render()
        with open(self.config_path, "w") as f:
            f.write(text)
        return text

    # -- process --
    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=10, attempts=3):
        for attempt in range(attempts):
            self.write_config()
            self._stderr = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen(
                [GUISED, "-c", self.config_path],
                stdin=subprocess.DEVNULL,
                stdout=self._stderr,
                stderr=self._stderr,
            )
            try:
                self._wait_ready(timeout)
                return self
            except GuisedError:
                self.proc.wait(timeout=5) if self.proc.poll() is not None else None
                ev = self.events()
                if self.proc.poll() is not None and "cannot listen" in ev and attempt + 1 < attempts:
                    # Lost a race for the port with another process: new port.
                    self._stderr.close()
                    self.port = None
                    continue
                self.kill()
                raise GuisedError(f"guised did not start; event log:\n{ev}")
        raise GuisedError("guised did not start")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise GuisedError(f"guised exited with {self.proc.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
                if "started" in self.events():
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise GuisedError("timeout waiting for the port")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig and waits; returns the exit status (negative: killed by a signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "timeout"
                self._stderr.close()
                return self.returncode
        self.returncode = self.proc.returncode
        self._stderr.close()
        return self.returncode

    def stop_clean(self, timeout=15):
        """Stops with SIGTERM; raises AssertionError unless the exit status is 0."""
        already = self.returncode
        rc = self.stop(timeout=timeout) if already is None else already
        if rc != 0:
            raise AssertionError(
                f"guised {self.name} did not exit cleanly (status {rc}); events:\n{self.events()[-4000:]}"
            )

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if hasattr(self, "_stderr") and not self._stderr.closed:
            self._stderr.close()

    # -- observation --
    def events(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for_event(self, pattern, timeout=5, start=0):
        """Waits until regex pattern matches the event log after offset start."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.events(), start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"no event matching {pattern!r}; events:\n{self.events()[-4000:]}")
            time.sleep(0.02)

    def read_access_log(self):
        try:
            with open(self.access_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for_access(self, pattern, timeout=5):
        """The access log is written when a request completes, which may be
        just after the client saw the answer: poll for a matching line."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.read_access_log())
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"no access line matching {pattern!r}:\n{self.read_access_log()}")
            time.sleep(0.02)

    def reload(self, config=None, expect=r"reloaded|reload refused", timeout=5):
        """Optionally rewrites the config file, sends SIGHUP and waits for the
        matching reload event after this point; returns the match."""
        if config is not None:
            self.write_config(config)
        start = len(self.events())
        self.proc.send_signal(signal.SIGHUP)
        return self.wait_for_event(expect, timeout, start)

    # -- addresses --
    @property
    def scheme(self):
        return "https" if self.tls else "http"

    def url(self, path="/"):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path}"


# ---- clients ------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in the order received
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<Response {self.status} {self.headers} body={self.body[:200]!r}>"


def _parse_head(head):
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})(?: (.*))?", lines[0])
    if not m:
        raise ValueError(f"not an HTTP status line: {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        k, _, v = line.partition(b":")
        headers.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
    return int(m.group(1)), (m.group(2) or b"").decode("latin-1"), headers


class CurlError(Exception):
    def __init__(self, rc, stderr):
        super().__init__(f"curl exited with {rc}: {stderr}")
        self.rc = rc
        self.stderr = stderr


def curl(url, *args, method=None, headers=None, path_as_is=False, cacert=None, timeout=10, head=False):
    """Runs curl and returns a Response (raises CurlError when curl fails).
    headers: dict or list of (name, value); args: extra curl options."""
    with tempfile.TemporaryDirectory(prefix="guise-curl-") as d:
        hdr, body = os.path.join(d, "h"), os.path.join(d, "b")
        cmd = [CURL, "-sS", "--max-time", str(timeout), "-D", hdr, "-o", body]
        if head:
            cmd.append("-I")
        if method:
            cmd += ["-X", method]
        if path_as_is:
            cmd.append("--path-as-is")
        if cacert:
            cmd += ["--cacert", cacert]
        items = headers.items() if isinstance(headers, dict) else (headers or [])
        for k, v in items:
            cmd += ["-H", f"{k}: {v}"]
        cmd += list(args) + [url]
        p = subprocess.run(cmd, capture_output=True)
        if p.returncode != 0:
            raise CurlError(p.returncode, p.stderr.decode("utf-8", "replace"))
        with open(hdr, "rb") as f:
            raw = f.read()
        data = b""
        if os.path.exists(body):
            with open(body, "rb") as f:
                data = f.read()
    # The last header block is the final answer (after any 1xx).
    blocks = [b for b in raw.split(b"\r\n\r\n") if b.strip()]
    status, reason, hdrs = _parse_head(blocks[-1])
    return Response(status, hdrs, data, reason)


def _read_all(sock, limit=16 << 20):
    chunks = []
    total = 0
    while total < limit:
        try:
            c = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not c:
            break
        chunks.append(c)
        total += len(c)
    return b"".join(chunks)


def raw_request(port, data, host="127.0.0.1", timeout=5, tls_context=None, server_hostname=None):
    """Sends data as is over a new connection and returns everything the
    server sends until it closes (or the timeout passes)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        if tls_context:
            with tls_context.wrap_socket(s, server_hostname=server_hostname or host) as t:
                t.sendall(data)
                return _read_all(t)
        s.sendall(data)
        return _read_all(s)


def parse_response(raw, head_request=False):
    """Parses one HTTP/1.1 response (Content-Length or until close)."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"incomplete response: {raw[:200]!r}")
    status, reason, headers = _parse_head(head)
    r = Response(status, headers, rest, reason)
    cl = r.header("Content-Length")
    if not head_request and cl is not None:
        r.body = rest[: int(cl)]
    return r


def metric(sock, name, labels=""):
    """One sample of guised's /metrics read over its admin Unix socket:
    metric(sock, "guise_worker_jobs_total") or, with labels as written in the
    exposition, metric(sock, "guise_requests_total", '{point="pub",status="200"}').
    None when the sample is missing."""
    r = curl("http://localhost/metrics", "--unix-socket", sock)
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\d+)$", r.text, re.M)
    return int(m.group(1)) if m else None


def http_request(port, method, target, headers=None, host="127.0.0.1", timeout=5, **kw):
    """Sends one request with an exact request-target (no client rewriting)
    and Connection: close; returns the Response."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    lines += [f"{k}: {v}" for k, v in items]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    raw = raw_request(port, data, host=host, timeout=timeout, **kw)
    resp = parse_response(raw, head_request=(method == "HEAD"))
    resp.raw = raw
    return resp


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    return ctx


# ---- accounts ------------------------------------------------------------------------

_MUTEX = os.path.join(_LOCK_DIR, "guise-integration-accounts.mutex")
_USERS = os.path.join(_LOCK_DIR, "guise-integration-accounts.users")


def _exists_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _exists_group(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")


class TestAccounts:
    """System accounts for tests (root only). users maps each user name to
    its supplementary groups; every user also gets its own user group.
    Names must start with guise-t-. Use as a context manager or call
    acquire()/release(); accounts that already exist with the right groups
    are reused, so a crashed run does no harm."""

    DEFAULT_USERS = {ALICE: [STAFF], BOB: [], CAROL: [STAFF]}
    DEFAULT_GROUPS = (STAFF,)

    def __init__(self, users=None, groups=None):
        self.users = dict(self.DEFAULT_USERS if users is None else users)
        self.groups = tuple(self.DEFAULT_GROUPS if groups is None else groups)
        for n in list(self.users) + list(self.groups):
            if not n.startswith(ACCOUNT_PREFIX):
                raise ValueError(f"test account names start with {ACCOUNT_PREFIX}: {n}")
        self._users_fd = None

    def acquire(self):
        require_root("creating test accounts")
        mutex = os.open(_MUTEX, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            self._users_fd = os.open(_USERS, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._users_fd, fcntl.LOCK_SH)
            for g in self.groups:
                if not _exists_group(g):
                    _run(["groupadd", "-K", "GID_MIN=1000", g])
            for u, extra in self.users.items():
                if not _exists_user(u):
                    _run(["useradd", "-M", "-U", "-K", "UID_MIN=1000", "-s", "/usr/sbin/nologin", u])
                want = set(extra)
                have = {g.gr_name for g in grp.getgrall() if u in g.gr_mem}
                if want != have:
                    _run(["usermod", "-G", ",".join(sorted(want)), u])
                if pwd.getpwnam(u).pw_uid < 1000:
                    raise RuntimeError(f"{u} got a uid below 1000")
        except BaseException:
            if self._users_fd is not None:
                os.close(self._users_fd)
                self._users_fd = None
            raise
        finally:
            os.close(mutex)
        return self

    def release(self):
        if self._users_fd is None:
            return
        mutex = os.open(_MUTEX, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            os.close(self._users_fd)  # drops the shared lock
            self._users_fd = None
            probe = os.open(_USERS, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                return  # another test process still uses the accounts
            finally:
                os.close(probe)
            remove_test_accounts()
        finally:
            os.close(mutex)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    @staticmethod
    def uid(name):
        return pwd.getpwnam(name).pw_uid

    @staticmethod
    def gid(name):
        return grp.getgrnam(name).gr_gid


def remove_test_accounts():
    """Deletes every guise-t-* user and group (call with the mutex held)."""
    for p in pwd.getpwall():
        if p.pw_name.startswith(ACCOUNT_PREFIX):
            subprocess.run(["userdel", p.pw_name], capture_output=True)
    for g in grp.getgrall():
        if g.gr_name.startswith(ACCOUNT_PREFIX):
            subprocess.run(["groupdel", g.gr_name], capture_output=True)


# ---- test case base ------------------------------------------------------------------


class GuiseTestCase(unittest.TestCase):
    """Base class: cls.work is a Workdir for the class; start servers with
    start_guised_class (whole class) or start_guised (one test)."""

    work = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = Workdir(prefix=f"guise-it-{cls.__name__}-")
        cls.addClassCleanup(cls.work.cleanup)

    @classmethod
    def start_guised_class(cls, config, name="guised", **kw):
        g = Guised(cls.work, config, name=name, **kw)
        g.start()
        cls.addClassCleanup(g.stop_clean)
        return g

    def start_guised(self, config, name=None, **kw):
        name = name or f"{self._testMethodName}"
        g = Guised(self.work, config, name=name, **kw)
        g.start()
        self.addCleanup(g.stop_clean)
        return g


def main():
    """Runs the calling module's tests; exit 0, 1, or 77 when all skipped."""
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    if not r.wasSuccessful():
        sys.exit(1)
    if r.testsRun == 0 and not r.skipped:
        print("no tests ran", file=sys.stderr)
        sys.exit(1)
    if len(r.skipped) >= r.testsRun:
        sys.exit(77)
    sys.exit(0)
