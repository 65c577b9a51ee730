"""The admin interface of guised: the REST API over the Unix socket (every
resource and action, errors, persistence across restarts, refusal of a peer
that is not an administrator), a failing plug-in seen and repaired through
the API and guisectl, the loopback TCP listener with authentication through
the server scope's plug-ins, /metrics, and the web page in headless
Chromium (click "Disable", see the change through the API, screenshot not
blank)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import guise_harness as gh

GUISECTL = gh.GUISECTL
NOBODY = 65534


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def admin(sock, method, path, body=None, raw=False):
    """One request on the admin socket: (status, JSON or text, headers)."""
    c = UnixHTTPConnection(sock)
    data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
    c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = c.getresponse()
    payload = r.read()
    c.close()
    if raw:
        return r.status, payload.decode(), dict(r.getheaders())
    return r.status, json.loads(payload) if payload else None, dict(r.getheaders())


def as_user(uid):
    """preexec_fn dropping every privilege to uid (no supplementary groups)."""
    def drop():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return drop


def base_config(w, sock, **server):
    cfg = gh.Config(authentication="anonymous", authorization="fs-acl", **server)
    cfg.server["admin-listen"] = sock
    cfg.server["token-ttl"] = "1"
    cfg.point("pub", w.join("pub"))
    return cfg


class AdminUnix(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("pub/hello.txt", "hello admin\n", mode=0o644)
        w.write("pub/big.bin", b"x" * 200000, mode=0o644)
        os.chmod(w.join("pub"), 0o755)

    def start(self, cfg=None, name=None):
        self.sock = self.work.join(f"{name or self._testMethodName}.sock")
        cfg = cfg or base_config(self.work, self.sock)
        cfg.server["admin-listen"] = self.sock
        g = self.start_guised(cfg, name=name)
        self._guised = g
        return g

    def restart(self, g):
        """Stops g cleanly and starts it again (the class cleanup stops it)."""
        g.stop_clean()
        self.assertFalse(os.path.exists(self.sock), "the admin socket outlived the server")
        g.returncode = None
        g.start()

    def api(self, method, path, body=None, **kw):
        return admin(self.sock, method, path, body, **kw)

    def guisectl(self, *args, user=None, sock=None):
        return subprocess.run([GUISECTL, "-s", sock or self.sock, *args], capture_output=True, text=True,
                              timeout=30, preexec_fn=as_user(user) if user is not None else None)

    # ---- resources ----

    def test_server_resource(self):
        g = self.start()
        # Anyone may connect (the peer's credentials decide).
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o666)
        gh.curl(g.url("/pub/hello.txt"))
        st, v, h = self.api("GET", "/api/server")
        self.assertEqual(st, 200)
        self.assertTrue(h["Content-Type"].startswith("application/json"))
        self.assertEqual(v["version"], "0.1.0")
        self.assertGreaterEqual(v["uptime_seconds"], 0)
        self.assertEqual(v["config_file"], g.config_path)
        self.assertFalse(v["critical"])
        self.assertEqual(v["scope"]["authentication"], ["anonymous"])
        self.assertEqual(v["scope"]["authorization"], ["fs-acl"])
        self.assertIn(v["impersonation"], ("io_uring", "syscalls", "off"))
        self.assertEqual(v["counters"]["requests"].get("200"), 1)
        self.assertEqual(v["counters"]["bytes_sent"], len("hello admin\n"))

    def test_plugins_resource_redacts_secrets(self):
        cfg = gh.hello_config(base_config(self.work, ""), account="nobody")
        g = self.start(cfg)
        st, v, _ = self.api("GET", "/api/plugins")
        self.assertEqual(st, 200)
        byname = {p["name"]: p for p in v["plugins"]}
        self.assertEqual(set(byname), {"anonymous", "hello", "fs-acl"})
        hello = byname["hello"]
        self.assertEqual(hello["kind"], "authentication")
        self.assertEqual(hello["protocol"], "Hello")
        self.assertEqual(hello["state"], "enabled")
        self.assertEqual(hello["properties"]["secret"], "(secret)")
        self.assertEqual(hello["properties"]["account"], "nobody")
        self.assertIn({"scope": "server", "position": 2}, hello["order"])
        self.assertIsNone(hello["last_error"])
        self.assertEqual(byname["fs-acl"]["kind"], "authorization")
        self.assertIn("anonymous", byname["anonymous"]["flags"])
        st, one, _ = self.api("GET", "/api/plugins/hello")
        self.assertEqual((st, one["name"]), (200, "hello"))
        _, text, _ = self.api("GET", "/api/plugins", raw=True)
        self.assertNotIn(gh.HELLO_SECRET, text)

    def test_points_resource(self):
        g = self.start()
        gh.curl(g.url("/pub/hello.txt"))
        gh.curl(g.url("/pub/missing.txt"))
        st, v, _ = self.api("GET", "/api/points")
        self.assertEqual(st, 200)
        (p,) = v["points"]
        self.assertEqual(p["name"], "pub")
        self.assertEqual(p["path"], self.work.join("pub"))
        self.assertEqual(p["authentication"], ["anonymous"])
        self.assertEqual(p["authorization"], ["fs-acl"])
        self.assertEqual(p["state"], "ok")
        self.assertEqual(p["counters"]["requests"], {"200": 1, "404": 1})
        st, v, _ = self.api("GET", "/api/points/pub")
        self.assertEqual((st, v["name"]), (200, "pub"))
        st, v, _ = self.api("GET", "/api/points/nope")
        self.assertEqual((st, v["error"]["code"]), (404, "no_such_point"))

    def test_clients_list_and_disconnect(self):
        g = self.start()
        s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        s.sendall(b"GET /pub/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while b"hello admin" not in got:
            got += s.recv(4096)
        deadline = time.monotonic() + 5
        while True:
            st, v, _ = self.api("GET", "/api/clients")
            mine = [c for c in v["clients"] if c["point"] == "pub"]
            if mine or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(st, 200)
        self.assertEqual(len(mine), 1, v)
        c = mine[0]
        self.assertEqual(c["address"], "127.0.0.1")
        self.assertEqual(c["user"], "anonymous")
        self.assertEqual(c["bytes"], len("hello admin\n"))
        self.assertRegex(c["since"], r"^\d{4}-\d\d-\d\dT")
        st, v, _ = self.api("DELETE", f"/api/clients/{c['id']}")
        self.assertEqual((st, v["ok"]), (200, True))
        s.settimeout(5)
        self.assertEqual(s.recv(4096), b"", "the connection was not closed")
        s.close()
        g.wait_for_event(r"admin\[500\] uid 0 \(root\): disconnected client %d" % c["id"])
        st, v, _ = self.api("DELETE", "/api/clients/999999")
        self.assertEqual((st, v["error"]["code"]), (404, "no_such_client"))
        st, v, _ = self.api("DELETE", "/api/clients/abc")
        self.assertEqual((st, v["error"]["code"]), (400, "bad_id"))

    def test_diagnostics_newest_first_and_clear(self):
        g = self.start()
        # Two warnings: malformed credentials.
        gh.curl(g.url("/pub/hello.txt"), headers={"Authorization": "Nope x"})
        gh.http_request(g.port, "GET", "/pub/%2e%2e/x")
        self.api("POST", "/api/plugins/anonymous/disable")
        gh.curl(g.url("/pub/hello.txt"), headers={"Authorization": "Basic !!!"})
        st, v, _ = self.api("GET", "/api/diagnostics")
        self.assertEqual(st, 200)
        seqs = [d["seq"] for d in v["diagnostics"]]
        self.assertEqual(seqs, sorted(seqs, reverse=True))
        for d in v["diagnostics"]:
            self.assertIn(d["level"], ("error", "warning"))
            self.assertRegex(d["result"]["code"], r"^0x[0-9A-F]{8}$")
        st, v, _ = self.api("DELETE", "/api/diagnostics")
        self.assertEqual(st, 200)
        st, v, _ = self.api("GET", "/api/diagnostics")
        self.assertEqual(v["diagnostics"], [])
        g.wait_for_event(r"uid 0 \(root\): cleared the diagnostics")

    # ---- actions ----

    def test_disable_enable_persist_and_log(self):
        g = self.start()
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 200)
        st, v, _ = self.api("POST", "/api/plugins/anonymous/disable")
        self.assertEqual((st, v["plugin"]["state"]), (200, "disabled"))
        g.wait_for_event(r"information admin\[500\] uid 0 \(root\): disabled plug-in 'anonymous'")
        # No enabled plug-in can let anyone in any more.
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 403)
        with open(g.config_path + ".state") as f:
            state = json.load(f)
        self.assertEqual(state["plugins"]["anonymous"]["enabled"], False)
        self.assertEqual(os.stat(g.config_path + ".state").st_mode & 0o777, 0o600)
        # Survives a reload and a restart.
        st, _, _ = self.api("POST", "/api/reload")
        self.assertEqual(st, 200)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "disabled")
        self.restart(g)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "disabled")
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 403)
        st, v, _ = self.api("POST", "/api/plugins/anonymous/enable")
        self.assertEqual((st, v["plugin"]["state"]), (200, "enabled"))
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 200)
        self.restart(g)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "enabled")

    def test_admin_state_key(self):
        """admin-state puts the state file elsewhere (the systemd unit keeps
        /etc read-only)."""
        cfg = base_config(self.work, "")
        where = self.work.join("var", "admin.state")
        os.makedirs(os.path.dirname(where), exist_ok=True)
        cfg.server["admin-state"] = where
        g = self.start(cfg)
        self.assertEqual(self.api("GET", "/api/server")[1]["state_file"], where)
        self.assertEqual(self.api("POST", "/api/plugins/anonymous/disable")[0], 200)
        with open(where) as f:
            self.assertFalse(json.load(f)["plugins"]["anonymous"]["enabled"])
        self.assertFalse(os.path.exists(g.config_path + ".state"))
        self.restart(g)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "disabled")
        # A state file that is not JSON is ignored with a warning.
        with open(where, "w") as f:
            f.write("{broken")
        start = len(g.events())
        self.assertEqual(self.api("POST", "/api/reload")[0], 200)
        g.wait_for_event(r"warning admin\[502\] administrative state ignored: " + re.escape(where), start=start)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "enabled")
        st, v, _ = self.api("POST", "/api/plugins/anonymous/disable")
        self.assertEqual((st, v["error"]["code"]), (500, "state_unreadable"))

    def test_state_temp_file_planted(self):
        """The state is written to <state>.tmp.<pid>, then renamed. Whatever
        sits at that name beforehand is never written through: a symlink
        to another file (that file stays as it was), a stale file (replaced),
        a directory (the save fails, the state file stays as it was)."""
        cfg = base_config(self.work, "")
        g = self.start(cfg)
        state = g.config_path + ".state"
        tmp = f"{state}.tmp.{g.pid}"
        victim = self.work.join("victim.txt")
        with open(victim, "w") as f:
            f.write("must stay\n")
        os.chmod(victim, 0o666)  # writable by the service account too: only the code protects it
        self.addCleanup(lambda: os.path.lexists(tmp) and (os.rmdir(tmp) if os.path.isdir(tmp) else os.unlink(tmp)))

        def saved_enabled():
            with open(state) as f:  # enabling drops the key: the configuration's value holds
                return json.load(f).get("plugins", {}).get("anonymous", {}).get("enabled", True)

        # A symlink where the temp file goes.
        os.symlink(victim, tmp)
        self.assertEqual(self.api("POST", "/api/plugins/anonymous/disable")[0], 200)
        with open(victim) as f:
            self.assertEqual(f.read(), "must stay\n")
        self.assertEqual(os.stat(victim).st_nlink, 1)
        self.assertFalse(os.path.islink(state), "the planted link was renamed over the state")
        self.assertFalse(saved_enabled())
        self.assertFalse(os.path.lexists(tmp))
        # A stale temp file (a crash between write and rename).
        with open(tmp, "w") as f:
            f.write("{stale")
        self.assertEqual(self.api("POST", "/api/plugins/anonymous/enable")[0], 200)
        self.assertTrue(saved_enabled())
        self.assertFalse(os.path.lexists(tmp))
        # A name that cannot be removed: the save fails and says so, the
        # state file keeps what it had, the running state is unchanged.
        with open(state) as f:
            before = f.read()
        os.mkdir(tmp)
        st, v, _ = self.api("POST", "/api/plugins/anonymous/disable")
        self.assertEqual((st, v["error"]["code"]), (500, "state_unwritable"), v)
        with open(state) as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "enabled")
        os.rmdir(tmp)
        self.assertEqual(self.api("POST", "/api/plugins/anonymous/disable")[0], 200)
        self.assertFalse(saved_enabled())

    def test_authentication_order(self):
        cfg = gh.hello_config(base_config(self.work, ""), account="nobody")
        g = self.start(cfg)
        st, v, _ = self.api("PUT", "/api/server/authentication", {"order": ["hello", "anonymous"]})
        self.assertEqual(st, 200, v)
        self.assertEqual(self.api("GET", "/api/server")[1]["scope"]["authentication"], ["hello", "anonymous"])
        # The point inherits the server list; its own order is separate.
        st, v, _ = self.api("PUT", "/api/points/pub/authentication", {"order": ["anonymous", "hello"]})
        self.assertEqual(st, 200, v)
        self.assertEqual(self.api("GET", "/api/points/pub")[1]["authentication"], ["anonymous", "hello"])
        g.wait_for_event(r"uid 0 \(root\): set the authentication order of scope 'server' to \[\"hello\",\"anonymous\"\]")
        for bad in ({"order": ["hello"]}, {"order": ["hello", "hello"]}, {"order": ["hello", "digest"]},
                    {"order": "hello"}, {}):
            st, v, _ = self.api("PUT", "/api/server/authentication", bad)
            self.assertEqual((st, v["error"]["code"]), (400, "bad_order"), bad)
        self.restart(g)
        self.assertEqual(self.api("GET", "/api/server")[1]["scope"]["authentication"], ["hello", "anonymous"])

    def test_stale_state_does_not_block_start(self):
        """After the configuration file drops a plug-in, an order or
        properties saved for it are ignored with a warning."""
        cfg = gh.hello_config(base_config(self.work, ""), account="nobody")
        g = self.start(cfg)
        self.assertEqual(self.api("PUT", "/api/server/authentication", {"order": ["hello", "anonymous"]})[0], 200)
        self.assertEqual(self.api("PUT", "/api/plugins/hello/properties/account", {"value": "nobody"})[0], 200)
        del cfg.plugins["hello"]
        del cfg.server["load"]
        cfg.server["authentication"] = "anonymous"
        g.write_config(cfg)
        self.restart(g)
        g.wait_for_event(r"warning admin\[502\] administrative authentication order of 'server' ignored: "
                         r"the configuration file changed the list since")
        g.wait_for_event(r"warning admin\[502\] administrative properties of 'hello' ignored")
        self.assertEqual(self.api("GET", "/api/server")[1]["scope"]["authentication"], ["anonymous"])
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 200)

    def test_set_property_reinitialises(self):
        cfg = gh.hello_config(base_config(self.work, ""), account="nobody")
        g = self.start(cfg)
        auth = {"Authorization": gh.hello_auth()}
        self.assertEqual(gh.curl(g.url("/pub/hello.txt"), headers=auth).status, 200)
        st, v, _ = self.api("PUT", "/api/plugins/hello/properties/secret", {"value": "new-secret-77"})
        self.assertEqual(st, 200, v)
        self.assertEqual(v["plugin"]["state"], "enabled")
        self.assertEqual(v["plugin"]["properties"]["secret"], "(secret)")
        # The old secret is refused, the new one accepted.
        self.assertEqual(gh.curl(g.url("/pub/hello.txt"), headers=auth).status, 401)
        self.assertEqual(gh.curl(g.url("/pub/hello.txt"), headers={"Authorization": "Hello alice:new-secret-77"}).status, 200)
        ev = g.wait_for_event(r"uid 0 \(root\): set secret property 'secret' of plug-in 'hello'")
        self.assertNotIn("new-secret-77", g.events())
        # Unknown keys and bad bodies.
        st, v, _ = self.api("PUT", "/api/plugins/hello/properties/colour", {"value": "red"})
        self.assertEqual((st, v["error"]["code"]), (400, "unknown_property"))
        st, v, _ = self.api("PUT", "/api/plugins/hello/properties/account", b"{not json")
        self.assertEqual((st, v["error"]["code"]), (400, "bad_body"))
        st, v, _ = self.api("PUT", "/api/plugins/hello/properties/account", {"value": 3})
        self.assertEqual((st, v["error"]["code"]), (400, "bad_body"))
        # A value the plug-in refuses at init: the reload fails, nothing changes.
        with open(g.config_path + ".state") as f:
            before = f.read()
        st, v, _ = self.api("PUT", "/api/plugins/anonymous/properties/account", {"value": ""})
        self.assertEqual((st, v["error"]["code"]), (400, "reload_failed"), v)
        with open(g.config_path + ".state") as f:
            self.assertEqual(f.read(), before)
        self.restart(g)
        self.assertEqual(gh.curl(g.url("/pub/hello.txt"), headers={"Authorization": "Hello alice:new-secret-77"}).status, 200)
        # Dropping the API's value brings back the configuration file's.
        p = self.guisectl("plugins", "unset", "hello", "secret")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(gh.curl(g.url("/pub/hello.txt"), headers=auth).status, 200)
        g.wait_for_event(r"uid 0 \(root\): reset property 'secret' of plug-in 'hello' to the configuration's")
        with open(g.config_path + ".state") as f:
            self.assertNotIn("secret", json.load(f)["plugins"]["hello"].get("properties", {}))

    def test_errors(self):
        self.start()
        for method, path, status, code in [
            ("GET", "/api/nothing", 404, "not_found"),
            ("GET", "/nothing.html", 404, "not_found"),
            ("GET", "/api/plugins/nope", 404, "no_such_plugin"),
            ("POST", "/api/plugins/nope/enable", 404, "no_such_plugin"),
            ("GET", "/api/plugins/anonymous/explode", 404, "not_found"),
            ("DELETE", "/api/server", 405, "method_not_allowed"),
            ("GET", "/api/reload", 405, "method_not_allowed"),
            ("POST", "/api/diagnostics", 405, "method_not_allowed"),
        ]:
            st, v, h = self.api(method, path)
            self.assertEqual((st, v["error"]["code"]), (status, code), (method, path))
            self.assertIsInstance(v["error"]["message"], str)
        st, v, h = self.api("DELETE", "/api/server")
        self.assertEqual(h.get("Allow"), "GET")
        st, v, _ = self.api("PUT", "/api/plugins/anonymous/properties/account", b"x" * 70000)
        self.assertEqual((st, v["error"]["code"]), (413, "too_large"))
        # Per-point instances take their properties from the point.
        cfg = base_config(self.work, self.sock)
        cfg.points["pub"]["authorization"] = "pp-acl"
        cfg.points["pub"]["read"] = "everyone"
        self._guised.reload(cfg, expect="reloaded")
        st, v, _ = self.api("PUT", "/api/plugins/pp-acl@pub/properties/read", {"value": "alice"})
        self.assertEqual((st, v["error"]["code"]), (400, "per_point_instance"))

    def test_metrics(self):
        cfg = gh.hello_config(base_config(self.work, ""), account="nobody")
        g = self.start(cfg)
        sent = len(gh.curl(g.url("/pub/hello.txt")).body)
        sent += len(gh.curl(g.url("/pub/hello.txt"), headers={"Authorization": "Hello alice:wrong"}).body)
        sent += len(gh.curl(g.url("/pub/big.bin")).body)
        st, text, h = self.api("GET", "/metrics", raw=True)
        self.assertEqual(st, 200)
        self.assertTrue(h["Content-Type"].startswith("text/plain; version=0.0.4"))
        self.assertIn('guise_requests_total{point="pub",status="200"} 2', text)
        self.assertIn('guise_requests_total{point="pub",status="401"} 1', text)
        self.assertIn('guise_authentications_total{plugin="anonymous",result="success"} 2', text)
        self.assertIn('guise_authentications_total{plugin="hello",result="denied"} 1', text)
        self.assertIn('guise_bytes_sent_total{point="pub"} %d' % sent, text)
        self.assertRegex(text, r"(?m)^guise_open_connections \d+$")
        self.assertRegex(text, r"(?m)^guise_workers_pending \d+$")
        self.assertRegex(text, r'(?m)^guise_impersonation_info\{mechanism="(io_uring|syscalls|off)"\} 1$')
        self.assertRegex(text, r'(?m)^guise_diagnostics\{level="warning"\} [1-9]\d*$')
        self.assertRegex(text, r'(?m)^# TYPE guise_requests_total counter$')

    def test_authorization_denials_metric(self):
        w = self.work
        w.write("secret/x.txt", "no\n", mode=0o600)
        os.chmod(w.join("secret"), 0o755)
        cfg = base_config(w, "")
        cfg.point("secret", w.join("secret"))
        if not gh.is_root():
            self.skipTest("fs-acl denial needs impersonation (root)")
        g = self.start(cfg)
        self.assertEqual(gh.curl(g.url("/secret/x.txt")).status, 403)
        st, text, _ = self.api("GET", "/metrics", raw=True)
        self.assertIn('guise_authorization_denials_total{plugin="fs-acl"} 1', text)

    def test_actions_under_load(self):
        """Toggling plug-ins, listing clients and reloading while clients
        fetch content: every answer is one the model allows, the server
        stays up and exits cleanly."""
        import threading
        g = self.start()
        stop = threading.Event()
        seen, errors = set(), []

        def fetch():
            while not stop.is_set():
                try:
                    seen.add(gh.http_request(g.port, "GET", "/pub/hello.txt").status)
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(repr(e))

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(40):
                self.assertEqual(self.api("POST", "/api/plugins/anonymous/" + ("disable" if i % 2 == 0 else "enable"))[0], 200)
                self.assertEqual(self.api("GET", "/api/clients")[0], 200)
                if i % 10 == 0:
                    self.assertEqual(self.api("POST", "/api/reload")[0], 200)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        self.assertLessEqual(seen, {200, 403})
        self.assertIn(200, seen)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "enabled")

    # ---- who may administer ----

    def test_non_admin_peer_refused(self):
        gh.require_root("connecting as another uid")
        g = self.start()
        os.chmod(self.work.path, 0o755)
        r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                as_user(NOBODY)()
                st, v, _ = admin(self.sock, "GET", "/api/server")
                os.write(wfd, json.dumps([st, v]).encode())
            finally:
                os._exit(0)
        os.close(wfd)
        with os.fdopen(r) as f:
            st, v = json.loads(f.read())
        os.waitpid(pid, 0)
        self.assertEqual(st, 403)
        self.assertEqual(v["error"]["code"], "forbidden")
        g.wait_for_event(r"warning admin\[501\] admin request GET /api/server from uid 65534 \(nobody\) refused")
        # guisectl says so, with its own exit status.
        p = self.guisectl("status", user=NOBODY)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("access denied", p.stderr)

    def test_status_with_3000_idle_content_connections(self):
        # select() stopped answering beyond FD_SETSIZE (1024) descriptors:
        # the admin daemon polls with epoll and answers however many the
        # content daemons hold. The content daemons keep their default
        # per-address limit (max-connections-per-ip = 256), so the 3,000
        # come from twelve loopback addresses, 250 each; a 257th connection
        # from one address is closed unanswered while another address is
        # still served.
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 3000 + 300
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < want:
            self.skipTest("cannot open 3000 descriptors")
        cfg = base_config(self.work, "x", io_threads=1, idle_timeout=120)
        self.assertNotIn("max-connections-per-ip", cfg.server)  # the default is under test
        g = self.start(cfg)
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])

        def connect_from(addr):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            s.bind((addr, 0))  # the source address, before connect
            s.connect(("127.0.0.1", g.port))
            return s

        def wait_open(n):
            deadline = time.monotonic() + 20
            while gh.metric(self.sock, "guise_open_connections") < n and time.monotonic() < deadline:
                time.sleep(0.2)
            return gh.metric(self.sock, "guise_open_connections")

        sources = [f"127.0.0.{i}" for i in range(2, 14)]
        for addr in sources:
            for _ in range(250):
                socks.append(connect_from(addr))
        # Every idle connection is accepted (none refused by a limit); the
        # last ones may still wait in the backlog for a moment.
        self.assertGreaterEqual(wait_open(3000), 3000)
        st, v, _ = self.api("GET", "/api/server")
        self.assertEqual(st, 200)
        p = self.guisectl("status")
        self.assertEqual(p.returncode, 0, p.stderr)

        # Fill 127.0.0.2 up to the limit: 256 held, all accepted.
        for _ in range(6):
            socks.append(connect_from(sources[0]))
        self.assertGreaterEqual(wait_open(3006), 3006)
        # The 257th from that address: the kernel completes the handshake,
        # libmicrohttpd closes it at accept without an answer.
        extra = connect_from(sources[0])
        self.addCleanup(extra.close)
        try:
            extra.sendall(b"GET /pub/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = extra.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
        self.assertEqual(answer, b"", "a connection beyond max-connections-per-ip was served")
        # Another address, with 250 of its own held, is still served.
        other = connect_from(sources[1])
        self.addCleanup(other.close)
        other.sendall(b"GET /pub/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := other.recv(4096):
            data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:200])
        self.assertTrue(data.endswith(b"hello admin\n"), data[-200:])
        # And the admin daemon still answers.
        p = self.guisectl("status")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_idle_non_admin_peers_cannot_hang_root(self):
        # 64 idle connections of an unprivileged user to the 0666 socket
        # used to take every slot (and a thread each) for 60 s.
        gh.require_root("connecting as another uid")
        g = self.start()
        os.chmod(self.work.path, 0o755)
        r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                as_user(NOBODY)()
                held = []
                for _ in range(64):
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect(self.sock)
                    held.append(s)
                os.write(wfd, b"1")
                time.sleep(30)
            finally:
                os._exit(0)
        os.close(wfd)
        self.addCleanup(lambda: (os.kill(pid, signal.SIGKILL), os.waitpid(pid, 0)))
        os.read(r, 1)
        os.close(r)
        t0 = time.monotonic()
        p = self.guisectl("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(time.monotonic() - t0, 20)

    def test_admin_group_member_allowed(self):
        gh.require_root("test accounts")
        with gh.TestAccounts():
            cfg = base_config(self.work, "")
            cfg.server["admin-group"] = gh.STAFF
            self.start(cfg)
            os.chmod(self.work.path, 0o755)
            alice, bob = gh.TestAccounts.uid(gh.ALICE), gh.TestAccounts.uid(gh.BOB)
            p = self.guisectl("status", user=alice)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = self.guisectl("status", user=bob)
            self.assertEqual(p.returncode, 4, p.stderr)
            # admin-group changes on reload.
            g = self._guised
            cfg.server["admin-group"] = gh.BOB
            g.reload(cfg, expect=r"reloaded")
            self.assertEqual(self.guisectl("status", user=alice).returncode, 4)
            self.assertEqual(self.guisectl("status", user=bob).returncode, 0)

    def test_unknown_admin_group_refused_by_config(self):
        cfg = base_config(self.work, self.work.join("x.sock"))
        cfg.server["admin-group"] = "guise-no-such-group"
        g = gh.Guised(self.work, cfg, name="badgroup")
        g.write_config()
        p = subprocess.run([gh.GUISED, "-t", "-c", g.config_path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("key 'admin-group': no such group 'guise-no-such-group'", p.stderr)
        cfg.server["admin-group"] = "root"
        cfg.server["admin-listen"] = "10.1.2.3:9000"
        g.write_config(cfg)
        p = subprocess.run([gh.GUISED, "-t", "-c", g.config_path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("key 'admin-listen': '10.1.2.3:9000' is not a loopback address", p.stderr)
        cfg.server["admin-listen"] = "127.0.0.1:9000"
        cfg.server["admin-state"] = "relative.state"
        g.write_config(cfg)
        p = subprocess.run([gh.GUISED, "-t", "-c", g.config_path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("key 'admin-state': 'relative.state' is not an absolute path", p.stderr)

    # ---- a failing plug-in, seen and repaired ----

    def test_failing_plugin_repaired_with_guisectl(self):
        cfg = base_config(self.work, "")
        cfg.plugin("anonymous", account="no-such-account")
        g = self.start(cfg)
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 503)
        st, v, _ = self.api("GET", "/api/plugins/anonymous")
        self.assertEqual(v["state"], "error")
        self.assertIn("no-such-account", v["last_error"]["message"] + json.dumps(self.api("GET", "/api/diagnostics")[1]))
        st, v, _ = self.api("GET", "/api/diagnostics")
        self.assertTrue(any(d["source"] == "anonymous" and d["level"] == "error" and "no-such-account" in d["message"]
                            for d in v["diagnostics"]), v)
        st, v, _ = self.api("GET", "/api/points/pub")
        self.assertEqual(v["state"], "critical")
        self.assertTrue(self.api("GET", "/api/server")[1]["critical"])
        # guisectl shows it.
        p = self.guisectl("plugins")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^anonymous\s+authentication\s+Anonymous\s+error\b")
        p = self.guisectl("diagnostics")
        self.assertIn("no-such-account", p.stdout)
        # Re-enabling alone cannot help: the account still does not exist.
        p = self.guisectl("reenable", "pub")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("reenable_failed", p.stderr)
        # Fix the property: the configuration is reloaded, service is back.
        p = self.guisectl("plugins", "set", "anonymous", "account=nobody")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 200)
        self.assertEqual(self.api("GET", "/api/plugins/anonymous")[1]["state"], "enabled")
        self.assertFalse(self.api("GET", "/api/server")[1]["critical"])
        self.restart(g)
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 200)

    def test_failing_plugin_repaired_by_reenable(self):
        gh.require_root("creating the guest account")
        late = "guise-t-late"
        cfg = base_config(self.work, "")
        cfg.plugin("anonymous", account=late)
        # A crashed earlier run may have left the account behind.
        subprocess.run(["userdel", late], capture_output=True)
        g = self.start(cfg)
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 503)
        with gh.TestAccounts(users={late: []}, groups=()):
            time.sleep(1.2)  # token-ttl = 1: a cached miss expires
            st, v, _ = self.api("POST", "/api/points/pub/reenable")
            self.assertEqual(st, 200, v)
            self.assertEqual(v["scope"]["state"], "ok")
            st, v, _ = self.api("POST", "/api/server/reenable")
            self.assertEqual(st, 200, v)
            # The guest may not read the file, but the point answers again.
            self.assertIn(gh.curl(g.url("/pub/hello.txt")).status, (200, 403))
            g.wait_for_event(r"uid 0 \(root\): re-enabled scope 'pub'")

    # ---- guisectl ----

    def test_guisectl(self):
        g = self.start()
        gh.curl(g.url("/pub/hello.txt"))
        p = self.guisectl("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("guised 0.1.0", p.stdout)
        self.assertRegex(p.stdout, r"requests:\s+200:1")
        p = self.guisectl("--json", "status")
        self.assertEqual(json.loads(p.stdout)["version"], "0.1.0")
        p = self.guisectl("points")
        self.assertRegex(p.stdout, r"(?m)^NAME\s+PATH\s+AUTHENTICATION")
        self.assertRegex(p.stdout, r"(?m)^pub\s+/\S+\s+anonymous\s+fs-acl\s+ok\s+200:1$")
        p = self.guisectl("plugins", "disable", "anonymous")
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "plug-in anonymous disabled"))
        p = self.guisectl("plugins", "--json")
        self.assertEqual({x["name"]: x["state"] for x in json.loads(p.stdout)["plugins"]}["anonymous"], "disabled")
        p = self.guisectl("plugins", "enable", "anonymous")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.guisectl("plugins", "order", "server", "anonymous")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.guisectl("plugins", "order", "server", "nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn("bad_order", p.stderr)
        p = self.guisectl("plugins", "enable", "nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no plug-in instance 'nope'", p.stderr)
        p = self.guisectl("clients")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^ID\s+ADDRESS")
        p = self.guisectl("clients", "kill", "424242")
        self.assertEqual(p.returncode, 1)
        p = self.guisectl("diagnostics", "--clear")
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "diagnostics cleared"))
        p = self.guisectl("diagnostics")
        self.assertEqual(p.stdout.strip().splitlines(), ["TIME  LEVEL  SOURCE  RESULT  MESSAGE"])
        p = self.guisectl("reload")
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "configuration reloaded"))
        g.wait_for_event(r"uid 0 \(root\): reloaded the configuration")
        p = self.guisectl("metrics")
        self.assertIn("guise_requests_total", p.stdout)
        # Usage errors and a server that is not there.
        self.assertEqual(self.guisectl("frobnicate").returncode, 2)
        self.assertEqual(self.guisectl("plugins", "set", "anonymous", "novalue").returncode, 2)
        p = subprocess.run([GUISECTL, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("4 access denied", p.stdout)
        p = self.guisectl("status", sock=self.work.join("nobody-here.sock"))
        self.assertEqual(p.returncode, 3)
        self.assertIn("cannot talk to guised", p.stderr)

    def test_default_socket_in_use_is_not_fatal(self):
        """Two servers with the default admin socket: the second runs
        without an admin interface rather than failing to start.

        /run/guise/admin.sock is global: any guised of a test running in
        parallel without admin-listen takes it. So this test gets its own
        /run/guise (a tmpfs in a mount namespace of this thread, which the
        guised it starts inherits) and holds the default socket there."""
        gh.require_root("a private /run/guise")
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 0x4000, 1 << 18
        os.makedirs("/run/guise", exist_ok=True)  # the mount point, in the shared tree
        home = os.open("/proc/thread-self/ns/mnt", os.O_RDONLY)
        self.addCleanup(os.close, home)
        if libc.unshare(CLONE_NEWNS) != 0:
            self.skipTest(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
        # Back to the shared mounts at the end (after the server stopped).
        self.addCleanup(lambda: libc.setns(home, CLONE_NEWNS) == 0 or self.fail("setns back failed"))
        for args in ((None, b"/", None, MS_REC | MS_PRIVATE, None),
                     (b"guise-test", b"/run/guise", b"tmpfs", 0, b"mode=0755")):
            if libc.mount(*args) != 0:
                self.fail(f"mount {args[1]}: {os.strerror(ctypes.get_errno())}")
        path = "/run/guise/admin.sock"
        self.assertEqual(os.listdir("/run/guise"), [])  # nobody else's
        taken = socket.socket(socket.AF_UNIX)
        self.addCleanup(taken.close)
        taken.bind(path)
        taken.listen(1)
        cfg = base_config(self.work, "")
        cfg.server.pop("admin-listen")
        g = gh.Guised(self.work, cfg, name="defaultsock")
        g.start()
        self.addCleanup(g.stop_clean)
        g.wait_for_event(r"admin interface not started: /run/guise/admin.sock is in use")
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 200)
        # The socket held is still ours.
        self.assertEqual(os.listdir("/run/guise"), ["admin.sock"])
        c = socket.socket(socket.AF_UNIX)
        c.connect(path)
        c.close()


class AdminTcp(gh.GuiseTestCase):
    """admin-listen on loopback: the server scope's plug-ins authenticate,
    the account must be in admin-group."""

    @classmethod
    def setUpClass(cls):
        gh.require_root("test accounts")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        cls.work.write("pub/hello.txt", "hello\n")

    def config(self, account):
        cfg = gh.hello_config(gh.Config(authorization="fs-acl"), account=account)
        cfg.point("pub", self.work.join("pub"))
        self.admin_port = gh.admin_over_tcp(cfg, gh.STAFF)
        return cfg

    def url(self, path):
        return f"http://127.0.0.1:{self.admin_port}{path}"

    def test_member_allowed_others_refused(self):
        g = self.start_guised(self.config(gh.ALICE))
        r = gh.curl(self.url("/api/server"))
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header_all("WWW-Authenticate"), ['Hello realm="guise"'])
        r = gh.curl(self.url("/api/server"), headers={"Authorization": gh.hello_auth()})
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(json.loads(r.body)["scope"]["authentication"], ["anonymous", "hello"])
        r = gh.curl(self.url("/api/server"), headers={"Authorization": gh.hello_auth(secret="wrong")})
        self.assertEqual(r.status, 401)
        g.wait_for_event(r"warning admin\[501\] admin request GET /api/server from .* refused: authentication denied")
        # Changes need the X-Guise-Admin header (cross-site forms cannot set it).
        r = gh.curl(self.url("/api/reload"), method="POST", headers={"Authorization": gh.hello_auth()})
        self.assertEqual((r.status, json.loads(r.body)["error"]["code"]), (403, "missing_header"))
        r = gh.curl(self.url("/api/reload"), method="POST",
                    headers={"Authorization": gh.hello_auth(), "X-Guise-Admin": "1"})
        self.assertEqual(r.status, 200, r.text)
        g.wait_for_event(r"alice \(account guise-t-alice, 127.0.0.1\): reloaded the configuration")
        # The page and its files.
        r = gh.curl(self.url("/"), headers={"Authorization": gh.hello_auth()})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertIn(b"guise administration", r.body)
        self.assertIn("default-src 'self'", r.header("Content-Security-Policy"))
        for f, t in (("/admin.js", "text/javascript"), ("/admin.css", "text/css")):
            r = gh.curl(self.url(f), headers={"Authorization": gh.hello_auth()})
            self.assertEqual(r.status, 200)
            self.assertTrue(r.header("Content-Type").startswith(t))

    def test_locked_out_on_the_content_port_is_locked_out_here(self):
        # One throttle for every listener: wrong passwords on the content
        # port lock the address out of the admin listener too, right
        # password or not.
        cfg = self.config(gh.ALICE)
        cfg.server.update({"auth-failure-delay": 0, "auth-lockout-failures": 3, "auth-lockout-time": 30})
        g = self.start_guised(cfg)
        bad = {"Authorization": gh.hello_auth(secret="wrong")}
        for _ in range(3):
            gh.curl(g.url("/pub/hello.txt"), headers=bad)
        r = gh.curl(self.url("/api/server"), headers={"Authorization": gh.hello_auth()})
        self.assertEqual(r.status, 429, r.text)
        self.assertTrue((r.header("Retry-After") or "").isdigit())
        # And the other way round: guessing on the admin listener counts.
        g.wait_for_event(r"address 127.0.0.1 is locked out")

    def test_malformed_credentials_are_400(self):
        # Like the content port (it was 401 here before the one front).
        g = self.start_guised(self.config(gh.ALICE))
        r = gh.curl(self.url("/api/server"), headers={"Authorization": "Hello no-colon-here"})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(json.loads(r.body)["error"]["code"], "bad_credentials")
        self.assertEqual(gh.curl(g.url("/pub/hello.txt"), headers={"Authorization": "Hello no-colon-here"}).status,
                         400)

    def test_non_member_answered_like_a_wrong_password(self):
        # The right password of a non-administrator must not be confirmed:
        # the same status, error code and challenges as a wrong password.
        g = self.start_guised(self.config(gh.BOB))
        right = gh.curl(self.url("/api/server"), headers={"Authorization": gh.hello_auth("bob")})
        wrong = gh.curl(self.url("/api/server"), headers={"Authorization": gh.hello_auth("bob", secret="wrong")})
        for r in (right, wrong):
            self.assertEqual(r.status, 401)
            self.assertEqual(json.loads(r.body)["error"]["code"], "unauthorized")
        self.assertEqual(right.header_all("WWW-Authenticate"), wrong.header_all("WWW-Authenticate"))
        self.assertEqual(right.body, wrong.body)
        # The administrator's log still says why.
        g.wait_for_event(r"warning admin\[501\] admin request GET /api/server from bob \(account guise-t-bob, "
                         r"127.0.0.1\) refused: the account is not root")


class AdminTcpGuisectl(gh.GuiseTestCase):
    """guisectl --url against a loopback admin listener whose server scope
    authenticates with Digest: the Digest user is mapped to an account in
    admin-group (guise-t-alice) or outside it (guise-t-bob)."""

    PASSWD = os.path.join(gh.BUILD_DIR, "src", "cli", "guise-passwd")

    @classmethod
    def setUpClass(cls):
        gh.require_root("test accounts")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        cls.work.write("pub/hello.txt", "hello\n")
        users = cls.work.join("users.digest")
        for i, (user, pw) in enumerate((("alice", "alice-pw"), ("bob", "bob-pw"))):
            subprocess.run([cls.PASSWD] + (["-c"] if i == 0 else []) + ["-a", "SHA-256", "--stdin", users,
                           "guise", user], input=pw + "\n", text=True, check=True, capture_output=True)
        gh.service_readable(users)  # made by guise-passwd as root, read by the service account
        amap = cls.work.write("accounts.map", f"alice {gh.ALICE}\nbob {gh.BOB}\n", mode=0o600)
        cfg = gh.Config(authentication="digest", authorization="fs-acl", auth_failure_delay=0,
                        state_directory=cls.work.path)
        cfg.plugin("digest", user_file=users, account_map=amap, algorithms="SHA-256 MD5")
        cfg.point("pub", cls.work.join("pub"))
        cls.admin_port = gh.admin_over_tcp(cfg, gh.STAFF)
        cls.srv = cls.start_guised_class(cfg)

    def guisectl(self, *args, env=None):
        e = dict(os.environ)
        e.pop("GUISECTL_PASSWORD", None)
        e.update(env or {})
        return subprocess.run([GUISECTL, "--url", f"http://127.0.0.1:{self.admin_port}/", *args],
                              capture_output=True, text=True, timeout=30, env=e, stdin=subprocess.DEVNULL)

    def test_member_administers(self):
        p = self.guisectl("--user", "alice:alice-pw", "status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("guised", p.stdout)
        p = self.guisectl("--user", "alice", "--json", "plugins", env={"GUISECTL_PASSWORD": "alice-pw"})
        self.assertEqual(p.returncode, 0, p.stderr)
        names = [x["name"] for x in json.loads(p.stdout)["plugins"]]
        self.assertIn("digest", names)
        # An action: the X-Guise-Admin header goes with it, the event names
        # the Digest user and the account.
        p = self.guisectl("--user", "alice:alice-pw", "reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.srv.wait_for_event(r"alice \(account guise-t-alice, 127\.0\.0\.1\): reloaded the configuration")

    def test_refusals_have_their_exit_codes(self):
        p = self.guisectl("status")
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("--user NAME or --negotiate", p.stderr)
        wrong = self.guisectl("--user", "alice:wrong", "status")
        self.assertEqual(wrong.returncode, 4, wrong.stderr)
        # A non-administrator's right password is answered like a wrong one
        # (the listener is no password oracle).
        p = self.guisectl("--user", "bob:bob-pw", "status")
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertEqual(p.stderr, wrong.stderr)
        p = self.guisectl("--user", "alice", "status")  # no password, no terminal
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_usage_errors(self):
        p = subprocess.run([GUISECTL, "--url", "ftp://x", "status"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([GUISECTL, "--user", "alice:x", "status"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("go with --url", p.stderr)
        free = gh.free_port()
        p = subprocess.run([GUISECTL, "--url", f"http://127.0.0.1:{free}", "status"], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 3, p.stderr)


class AdminBrowser(gh.GuiseTestCase):
    """The web page in headless Chromium over a loopback admin listener."""

    CHROMIUM = "/usr/bin/chromium"
    BROWSER_SRC = os.path.join(gh.SOURCE_DIR, "tests", "integration", "browser")
    BROWSER_BUILD = os.path.join(gh.BUILD_DIR, "tests", "integration", "browser")

    @classmethod
    def ensure_playwright(cls):
        """playwright-core at the version locked in tests/integration/browser
        (shared with test_browser.py), installed once into the build tree."""
        os.makedirs(cls.BROWSER_BUILD, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            src, dst = os.path.join(cls.BROWSER_SRC, name), os.path.join(cls.BROWSER_BUILD, name)
            with open(src, "rb") as f:
                want = f.read()
            have = None
            if os.path.exists(dst):
                with open(dst, "rb") as f:
                    have = f.read()
            if have != want:
                with open(dst, "wb") as f:
                    f.write(want)
                shutil.rmtree(os.path.join(cls.BROWSER_BUILD, "node_modules"), ignore_errors=True)
        modules = os.path.join(cls.BROWSER_BUILD, "node_modules")
        if not os.path.isdir(os.path.join(modules, "playwright-core")):
            p = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                               cwd=cls.BROWSER_BUILD, capture_output=True, text=True, timeout=180)
            if p.returncode != 0:
                raise RuntimeError(f"npm ci failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return modules

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(cls.CHROMIUM):
            print("SKIP: chromium not installed (apt-get install -y chromium)", flush=True)
            raise gh.unittest.SkipTest("chromium not installed")
        gh.require_root("test accounts")
        super().setUpClass()
        cls.modules = cls.ensure_playwright()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)

    def test_disable_with_a_click(self):
        w = self.work
        w.write("pub/hello.txt", "hello\n")
        cfg = gh.hello_config(gh.Config(authorization="fs-acl"), account=gh.ALICE)
        cfg.point("pub", w.join("pub"))
        port = gh.free_port()
        cfg.server["admin-listen"] = f"127.0.0.1:{port}"
        cfg.server["admin-group"] = gh.STAFF
        g = self.start_guised(cfg)
        gh.curl(g.url("/pub/missing"))  # something in the tables
        shot = w.join("admin.png")
        env = dict(os.environ, NODE_PATH=self.modules)
        p = subprocess.run(["node", os.path.join(gh.SOURCE_DIR, "tests", "integration", "admin", "check_admin.cjs"),
                            f"http://127.0.0.1:{port}/", gh.hello_auth(), "anonymous", shot],
                           capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 0, f"node failed:\n{p.stdout}\n{p.stderr}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["errors"], [], out)
        self.assertEqual(out["status"], 200)
        self.assertEqual(out["title"], "guise administration")
        self.assertIn("anonymous", out["pluginRows"])
        self.assertIn("pub", out["pointsText"])
        self.assertTrue(out["enableShown"], out)
        # The change is real: the API and the content server see it.
        r = gh.curl(f"http://127.0.0.1:{port}/api/plugins/anonymous", headers={"Authorization": gh.hello_auth()})
        self.assertEqual(json.loads(r.body)["state"], "disabled")
        self.assertEqual(gh.curl(g.url("/pub/hello.txt")).status, 401)
        g.wait_for_event(r"alice \(account guise-t-alice, 127.0.0.1\): disabled plug-in 'anonymous'")
        # Not a blank page.
        self.assertGreater(out["screenshot"]["colours"], 8, out["screenshot"])
        self.assertGreater(out["screenshot"]["height"], 300)


if __name__ == "__main__":
    gh.main()
