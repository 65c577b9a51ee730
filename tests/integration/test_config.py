"""Configuration checking: `guised -t -c FILE` exits 0 for a good file and 1
for a bad one, naming file, line and key; --version and --help."""

import os
import re
import subprocess
import time

import guise_harness as gh


class ConfigCheck(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/a.txt", "a\n")
        cls.counter = 0

    def check(self, text):
        """Writes text to a new file, runs guised -t on it; returns (rc, out, path)."""
        type(self).counter += 1
        path = self.work.join(f"check-{self.counter}.conf")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([gh.GUISED, "-t", "-c", path], capture_output=True, text=True, timeout=20)
        return p.returncode, p.stdout + p.stderr, path

    def good(self, **server):
        server.setdefault("listen", "127.0.0.1:8080")
        server.setdefault("authentication", "anonymous")
        server.setdefault("event-log", "stderr")
        lines = ["[server]"] + [f"{k} = {v}" for k, v in server.items()]
        lines += ["", '[publishing-point "pub"]', f"path = {self.work.join('pub')}", ""]
        return "\n".join(lines) + "\n"

    def assertBad(self, text, line, key=None, why=None):
        rc, out, path = self.check(text)
        self.assertEqual(rc, 1, out)
        loc = f"{path}:{line}:"
        self.assertIn(loc, out, f"message does not name {loc}")
        if key:
            self.assertRegex(out, re.escape(loc) + r".*" + re.escape(key), out)
        if why:
            self.assertRegex(out, why)
        self.assertIn("test failed", out)
        return out

    def line_of(self, text, needle):
        for i, line in enumerate(text.splitlines(), 1):
            if needle in line:
                return i
        raise AssertionError(f"{needle} not in text")

    def test_good_file_exits_0(self):
        rc, out, path = self.check(self.good())
        self.assertEqual(rc, 0, out)
        self.assertIn("successful", out)

    def test_good_file_with_everything(self):
        text = f"""# comment
[server]
listen = 127.0.0.1:8080
listen = [::1]:8080
workers = 2
impersonation = off
min-uid = 1000
authentication = anonymous hello
authorization = ip fs-acl
access-log = {self.work.join('access.log')}
event-log = stderr
realm = integration
state-directory = {self.work.path}
auth-failure-delay = 100
max-uri-length = 2048
max-header-size = 8192
max-connections-per-ip = 10
idle-timeout = 30
content-cache-ttl = 250
content-cache-entries = 1024
load = {gh.HELLO_PLUGIN}

[plugin "hello"]
secret = {gh.HELLO_SECRET}
account = nobody

[plugin "ip"]
allow = 127.0.0.0/8 ::1
deny = 10.0.0.0/8

[publishing-point "pub"]
path = {self.work.join('pub')}
authentication = hello
authorization = pp-acl
read = user:alice anonymous
write = user:alice

[publishing-point "one"]
path = {self.work.join('pub/a.txt')}
"""
        rc, out, _ = self.check(text)
        self.assertEqual(rc, 0, out)

    def test_unknown_key(self):
        text = self.good() + ""
        text = text.replace("event-log = stderr", "event-log = stderr\ncolour = blue")
        self.assertBad(text, self.line_of(text, "colour"), "'colour'", "unknown key")

    def test_unknown_key_in_point(self):
        text = self.good() + "bogus-key = 1\n"
        self.assertBad(text, self.line_of(text, "bogus-key"), "'bogus-key'", "unknown key")

    def test_bad_values(self):
        for key, value in (
            ("workers", "many"),
            ("workers", "0"),
            ("impersonation", "sometimes"),
            ("max-uri-length", "10"),
            ("max-header-size", "-5"),
            ("idle-timeout", "1e3"),
            ("event-log", "syslog"),
            ("listen", "localhost"),
            ("listen", "127.0.0.1:99999"),
            ("realm", 'a"b'),
            ("min-uid", "0"),
            ("auth-failure-delay", "100000"),
            ("content-cache-ttl", "1s"),
            ("content-cache-ttl", "60001"),
            ("content-cache-entries", "8"),
        ):
            with self.subTest(key=key, value=value):
                text = self.good(**{key: value})
                self.assertBad(text, self.line_of(text, f"{key} = {value}"), f"'{key}'")

    def test_unknown_plugin_name(self):
        text = self.good(authentication="anonymous kerbros")
        self.assertBad(text, self.line_of(text, "kerbros"), "'authentication'", "unknown plug-in 'kerbros'")
        text = self.good(authorization="fs-acl nosuch")
        self.assertBad(text, self.line_of(text, "nosuch"), "'authorization'", "unknown plug-in 'nosuch'")

    def test_unknown_plugin_section(self):
        text = self.good() + '\n[plugin "nosuch"]\nx = 1\n'
        self.assertBad(text, self.line_of(text, '[plugin "nosuch"]'), None, "unknown plug-in")

    def test_wrong_kind_of_plugin(self):
        text = self.good(authentication="fs-acl")
        self.assertBad(text, self.line_of(text, "authentication = fs-acl"), "'authentication'")

    def test_bad_plugin_property(self):
        text = self.good(authorization="ip") + '\n[plugin "ip"]\ndeny = 300.1.2.3/8\n'
        self.assertBad(text, self.line_of(text, "deny = 300"), "'deny'", "not an IP address")

    def test_hello_secret_too_short(self):
        text = self.good(load=gh.HELLO_PLUGIN, authentication="anonymous hello")
        text += '\n[plugin "hello"]\nsecret = short\n'
        self.assertBad(text, self.line_of(text, "secret = short"), "'secret'")

    def test_missing_path(self):
        text = self.good().replace(f"path = {self.work.join('pub')}\n", "")
        self.assertBad(text, self.line_of(text, "[publishing-point"), "'path'", "required")

    def test_nonexistent_path(self):
        text = self.good().replace(self.work.join("pub"), self.work.join("does-not-exist"))
        self.assertBad(text, self.line_of(text, "does-not-exist"), "'path'", "No such file")

    def test_relative_path(self):
        text = self.good().replace(self.work.join("pub"), "relative/dir")
        self.assertBad(text, self.line_of(text, "relative/dir"), "'path'")

    def test_unknown_section(self):
        text = self.good() + "\n[virtual-host]\nname = x\n"
        self.assertBad(text, self.line_of(text, "[virtual-host]"), None, r"unknown section \[virtual-host\]")

    def test_empty_unknown_section(self):
        # A section without keys is checked too.
        text = self.good() + "\n[virtual-host]\n"
        self.assertBad(text, self.line_of(text, "[virtual-host]"), None, "unknown section")

    def test_empty_point_section_needs_path(self):
        text = self.good() + '\n[publishing-point "empty"]\n'
        self.assertBad(text, self.line_of(text, '"empty"'), "'path'", "required")

    def test_long_point_name(self):
        # Names up to 64 characters are valid (longer than libinih's own
        # section buffer), and 65 are refused with a clear message.
        name = "p" * 64
        text = self.good() + f'\n[publishing-point "{name}"]\npath = {self.work.path}\n'
        rc, out, _ = self.check(text)
        self.assertEqual(rc, 0, out)
        text = self.good() + f'\n[publishing-point "{name}q"]\npath = {self.work.path}\n'
        self.assertBad(text, self.line_of(text, name), None, "publishing point name")

    def test_duplicate_point(self):
        text = self.good() + f'\n[publishing-point "pub"]\npath = {self.work.path}\n'
        self.assertBad(text, len(text.splitlines()) - 1, None, "appears twice")

    def test_bad_point_name(self):
        text = self.good() + f'\n[publishing-point "a/b"]\npath = {self.work.path}\n'
        self.assertBad(text, self.line_of(text, '"a/b"'), None, "publishing point name")

    def test_key_outside_section(self):
        text = "listen = 127.0.0.1:8080\n" + self.good()
        self.assertBad(text, 1, "'listen'", "outside")

    def test_syntax_error(self):
        text = self.good() + "this line has no equals sign\n"
        self.assertBad(text, self.line_of(text, "no equals"), None, "syntax")

    def test_ip_on_point_refused(self):
        text = self.good() + "authorization = ip\n"
        self.assertBad(text, self.line_of(text, "authorization = ip"), "'authorization'", "server level only")

    def test_acl_without_pp_acl(self):
        text = self.good() + "read = user:alice\n"
        self.assertBad(text, self.line_of(text, "read = user:alice"), "'read'", "pp-acl")

    def test_pp_acl_at_server_level(self):
        text = self.good(authorization="pp-acl")
        self.assertBad(text, self.line_of(text, "authorization = pp-acl"), "'authorization'")

    def test_pp_acl_unknown_group(self):
        text = self.good() + "authorization = pp-acl\nread = group:no-such-group-xyz\n"
        self.assertBad(text, self.line_of(text, "no-such-group"), "'read'", "unknown group")

    def test_duplicate_authentication_entry(self):
        text = self.good() + "authentication = anonymous anonymous\n"
        self.assertBad(text, self.line_of(text, "anonymous anonymous"), "'authentication'", "twice")

    def test_tls_key_without_certificate(self):
        text = self.good(**{"tls-key": self.work.join("pub/a.txt")})
        rc, out, path = self.check(text)
        self.assertEqual(rc, 1, out)
        self.assertIn(path, out)
        self.assertIn("tls-certificate", out)

    def test_missing_file(self):
        p = subprocess.run(
            [gh.GUISED, "-t", "-c", self.work.join("nope.conf")], capture_output=True, text=True, timeout=20
        )
        self.assertEqual(p.returncode, 1)
        self.assertIn("nope.conf", p.stderr)

    def test_bad_config_refuses_to_start(self):
        text = self.good(workers="lots")
        path = self.work.join("start-bad.conf")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([gh.GUISED, "-c", path], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{path}:{self.line_of(text, 'workers')}: key 'workers'", p.stderr)

    def test_version(self):
        p = subprocess.run([gh.GUISED, "--version"], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^guised \d+\.\d+\.\d+ \(plug-in ABI \d+\.\d+\)")
        p2 = subprocess.run([gh.GUISED, "-V"], capture_output=True, text=True, timeout=20)
        self.assertEqual(p2.stdout, p.stdout)

    def test_help(self):
        p = subprocess.run([gh.GUISED, "--help"], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0)
        for word in ("-c", "--config", "-t", "--test", "SIGHUP"):
            self.assertIn(word, p.stdout)

    def test_bad_option(self):
        p = subprocess.run([gh.GUISED, "--no-such-option"], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 2)
        self.assertIn("Usage", p.stderr)


def tree(path):
    """Every path below path (relative), for 'nothing was written' checks."""
    out = []
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            out.append(os.path.relpath(os.path.join(root, n), path))
    return sorted(out)


class FirstRun(gh.GuiseTestCase):
    """Issue 15: a new user's minimal Digest configuration on a machine
    without the state directory. `guised -t` accepts it and writes nothing;
    `guised` creates the directory (0700, parents as needed) and starts."""

    def config(self, state):
        self.work.write("pub/a.txt", "a\n")
        users = self.work.write("users.htdigest", "alice:guise:0123456789abcdef0123456789abcdef\n")
        return (
            "[server]\n"
            f"listen = 127.0.0.1:{gh.free_port()}\n"
            "authentication = digest\n"
            f"state-directory = {state}\n"
            "event-log = stderr\n"
            "admin-listen = none\n"
            + ("impersonation = off\n" if os.geteuid() != 0 else "")
            + '[plugin "digest"]\n'
            f"user-file = {users}\n"
            '[publishing-point "pub"]\n'
            f"path = {self.work.join('pub')}\n"
        )

    def write(self, name, text):
        path = self.work.join(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_check_accepts_a_missing_state_directory_and_writes_nothing(self):
        base = self.work.mkdir("fresh-t")
        state = os.path.join(base, "var", "lib", "guise")
        path = self.write("first-t.conf", self.config(state))
        before = tree(self.work.path)
        p = subprocess.run([gh.GUISED, "-t", "-c", path], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("test is successful", p.stdout)
        self.assertEqual(tree(self.work.path), before, "guised -t wrote files")
        self.assertFalse(os.path.exists(state))

    def test_check_with_an_existing_state_directory_creates_no_key(self):
        state = self.work.mkdir("existing-t", mode=0o700)
        if gh.is_root():  # as an install leaves it: the service account's
            os.chown(state, *gh.service_ids())
        path = self.write("existing-t.conf", self.config(state))
        p = subprocess.run([gh.GUISED, "-t", "-c", path], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(os.listdir(state), [], "guised -t created the nonce key")

    def test_check_refuses_a_state_directory_below_a_file(self):
        self.work.write("plainfile", "x")
        path = self.write("below-file.conf", self.config(self.work.join("plainfile/guise")))
        p = subprocess.run([gh.GUISED, "-t", "-c", path], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("state-directory", p.stderr)

    def test_start_creates_the_state_directory(self):
        base = self.work.mkdir("fresh-run")
        state = os.path.join(base, "var", "lib", "guise")
        path = self.write("first-run.conf", self.config(state))
        err = open(self.work.join("first-run.err"), "wb")
        proc = subprocess.Popen([gh.GUISED, "-c", path], stderr=err, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and proc.poll() is None:
                if os.path.exists(os.path.join(state, "digest-nonce.key")):
                    break
                time.sleep(0.05)
            self.assertIsNone(proc.poll(), open(self.work.join("first-run.err")).read())
            self.assertEqual(os.stat(state).st_mode & 0o777, 0o700)
            if gh.is_root():
                # Created as root before the switch, then given to the
                # account the server runs as (it writes its key there).
                self.assertEqual((os.stat(state).st_uid, os.stat(state).st_gid), gh.service_ids())
            self.assertTrue(os.path.isdir(os.path.join(base, "var", "lib")))
            self.assertTrue(os.path.exists(os.path.join(state, "digest-nonce.key")))
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=20), 0)
            err.close()


class AllowAccounts(gh.GuiseTestCase):
    def test_root_is_refused(self):
        self.work.write("pub/a.txt", "a\n")
        for accounts in ("root", "alice root", "0"):
            path = self.work.write(f"root-{accounts.replace(' ', '-')}.conf",
                                   "[server]\nlisten = 127.0.0.1:8080\nauthentication = anonymous\n"
                                   f"allow-accounts = {accounts}\nevent-log = stderr\n")
            p = subprocess.run([gh.GUISED, "-t", "-c", path], capture_output=True, text=True, timeout=20)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertRegex(p.stderr, re.escape(path) + r":4: key 'allow-accounts': '(root|0)' is uid 0")


if __name__ == "__main__":
    gh.main()
