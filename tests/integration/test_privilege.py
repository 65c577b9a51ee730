"""Never root by construction, and accounts as real systems have them
(issue 14, sections 1 and 2). As root:

- the running guised has switched to the service account: /proc/PID/status
  of the process and of every thread shows its uid and gid (never 0), only
  CAP_SETUID, CAP_SETGID and CAP_NET_BIND_SERVICE, no_new_privs and
  Seccomp: 2; with impersonation off it no longer reads a root-owned file
  as its owner;
- a test plug-in (escalate-plugin) that calls setuid(0), setfsuid(0) ... on
  libmicrohttpd's thread or a worker is killed by the kernel (SIGSYS), while
  the calls the filter allows leave the server serving;
- a missing server-account is an error naming the key; `guised -t` reports
  files the service account cannot read or write;
- a real account whose primary group is users (100) logs in with Digest and
  reads its own file; a low supplementary group is not handed to its token
  unless allow-groups lists it;
- a Digest user mapped to the anonymous guest's low-uid account is refused,
  while anonymous clients still get the guest.
"""

import hashlib
import os
import pwd
import re
import signal
import subprocess
import time
import unittest

import guise_harness as gh

ESCALATE_PLUGIN = os.path.join(gh.BUILD_DIR, "tests", "integration", "guise-escalate.so")
REALM = "priv-realm"
KEPT_CAPS = (1 << 6) | (1 << 7) | (1 << 10)  # CAP_SETGID, CAP_SETUID, CAP_NET_BIND_SERVICE

# Made by this file, not by gh.TestAccounts (which makes user private groups
# only, and removes every guise-t-* account when its last user is done, in
# whichever test process that is): their own prefix, created and removed
# under the harness's account mutex.
U100 = "guise-p-u100"  # primary group users (100), member of audio
GUEST = "guise-p-guest"  # a system account (uid < 1000): the anonymous guest


def status_of(path):
    fields = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def ha1_line(user, password):
    return f"{user}:{REALM}:{hashlib.md5(f'{user}:{REALM}:{password}'.encode()).hexdigest()}\n"


def base_config(work, **server):
    server.setdefault("authentication", "anonymous")
    cfg = gh.Config(authorization="fs-acl", admin_listen="none", **server)
    cfg.point("pub", work.join("pub"))
    return cfg


class RunningServer(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gh.require_root("switching to the service account")
        cls.work.write("pub/hello.txt", "hello\n")
        cls.srv = cls.start_guised_class(base_config(cls.work))

    def test_process_and_every_thread_switched(self):
        uid, gid = gh.service_ids()
        self.assertNotEqual(uid, 0)
        self.assertEqual(gh.curl(self.srv.url("/pub/hello.txt")).status, 200)
        tasks = os.listdir(f"/proc/{self.srv.pid}/task")
        self.assertGreater(len(tasks), 2, "workers and libmicrohttpd's threads exist")
        for tid in ["."] + [f"task/{t}" for t in tasks]:
            st = status_of(f"/proc/{self.srv.pid}/{tid}/status")
            self.assertEqual(st["Uid"].split(), [str(uid)] * 4, tid)
            self.assertEqual(st["Gid"].split(), [str(gid)] * 4, tid)
            self.assertNotIn("0", st["Groups"].split(), tid)
            self.assertEqual(int(st["CapPrm"], 16), KEPT_CAPS, tid)
            self.assertEqual(int(st["CapEff"], 16), KEPT_CAPS, tid)
            self.assertEqual(int(st["CapInh"], 16), 0, tid)
            self.assertEqual(int(st["CapAmb"], 16), 0, tid)
            self.assertEqual(int(st["CapBnd"], 16), KEPT_CAPS, tid)
            self.assertEqual(st["NoNewPrivs"], "1", tid)
            self.assertEqual(st["Seccomp"], "2", tid)

    def test_impersonation_still_works(self):
        # the guest (nobody) reads a world-readable file, not one only its
        # owner may read, and the switch left both mechanisms working
        self.work.write("pub/owner-only.txt", "no\n", mode=0o600, owner="root", group="root")
        self.assertEqual(gh.curl(self.srv.url("/pub/owner-only.txt")).status, 403)
        self.srv.wait_for_event(r"started \(impersonation: (io_uring|syscalls)")


class OwnerRightsGone(gh.GuiseTestCase):
    """With impersonation off the server reads as itself: before the switch
    that was root, the owner of every root file (/etc/shadow's case); now
    a root-owned 0600 file is refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gh.require_root("switching to the service account")
        cls.work.write("pub/world.txt", "world\n")
        cls.work.write("pub/root-only.txt", "secret\n", mode=0o600, owner="root", group="root")
        cls.srv = cls.start_guised_class(base_config(cls.work, impersonation="off"))

    def test_root_file_refused(self):
        self.assertEqual(gh.curl(self.srv.url("/pub/world.txt")).status, 200)
        r = gh.curl(self.srv.url("/pub/root-only.txt"))
        self.assertIn(r.status, (403, 404), r)
        self.assertNotIn(b"secret", r.body)
        st = status_of(f"/proc/{self.srv.pid}/status")
        self.assertEqual(int(st["CapEff"], 16), 1 << 10, "impersonation off: only CAP_NET_BIND_SERVICE")


class Escalation(gh.GuiseTestCase):
    """The kernel stops a guised that tries to become root again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gh.require_root("the seccomp filter test")
        cls.work.write("pub/hello.txt", "hello\n")

    def server(self, name):
        cfg = base_config(self.work, authentication="escalate")
        cfg.server["load"] = ESCALATE_PLUGIN
        g = gh.Guised(self.work, cfg, name=name)
        g.start()
        self.addCleanup(lambda: g.running() and g.kill())
        return g

    def attempt(self, call):
        g = self.server("esc-" + call.replace(":", "-"))
        try:
            r = gh.curl(g.url("/pub/hello.txt"), headers={"Authorization": f"Escalate {call}"}, timeout=5)
        except gh.CurlError:
            r = None  # the connection died with the server
        try:
            g.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return g, r

    def test_calls_with_id_0_kill_the_server(self):
        calls = ["setuid", "setgid", "setresuid", "setreuid", "setfsuid", "setfsgid", "setfsuid-high",
                 "worker:setuid", "worker:setfsuid"]
        for call in calls:
            with self.subTest(call=call):
                g, r = self.attempt(call)
                self.assertFalse(g.running(), f"{call}: guised still runs ({r})")
                self.assertEqual(g.proc.returncode, -signal.SIGSYS, f"{call}: {g.events()[-400:]}")
                self.assertNotIn("not stopped", g.events())

    def test_allowed_calls_leave_it_serving(self):
        g, r = self.attempt("harmless")
        self.assertTrue(g.running())
        self.assertEqual(r.status, 401, r)
        g.wait_for_event(r"escalate: harmless calls made")
        self.assertEqual(g.stop(), 0)


class ServiceAccountConfig(gh.GuiseTestCase):
    """server-account errors and guised -t's check of the server's files."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gh.require_root("the service account checks")
        cls.work.write("pub/a.txt", "a\n")

    def check(self, cfg, name):
        g = gh.Guised(self.work, cfg, name=name)
        g.port = gh.free_port()
        g.write_config()
        return subprocess.run([gh.GUISED, "-t", "-c", g.config_path], capture_output=True, text=True, timeout=20)

    def test_missing_account_names_the_key(self):
        cfg = base_config(self.work, server_account="guise-t-no-such-account")
        p = self.check(cfg, "missing")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r"guised: \S+missing\.conf:\d+: key 'server-account': account "
                                   r"'guise-t-no-such-account' does not exist.*useradd --system")
        # and the server itself refuses to start the same way
        g = gh.Guised(self.work, cfg, name="missing-run")
        with self.assertRaises(gh.GuisedError):
            g.start(attempts=1)
        self.assertIn("key 'server-account'", open(g.stderr_path).read())

    def test_root_is_no_service_account(self):
        p = self.check(base_config(self.work, server_account="root"), "rootacct")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("has uid or gid 0", p.stderr)

    def test_unreadable_files_reported(self):
        key = self.work.write("secret.key", "not a key\n", mode=0o600, owner="root", group="root")
        crt = self.work.write("public.crt", "not a certificate\n")
        logdir = self.work.mkdir("rootlogs", mode=0o755, owner="root", group="root")
        cfg = base_config(self.work, tls_certificate=crt, tls_key=key, access_log=os.path.join(logdir, "a.log"))
        p = self.check(cfg, "unreadable")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r"key 'tls-key': \S+secret\.key cannot be read by the server's account: Permission denied")
        self.assertRegex(p.stderr, r"key 'access-log': \S+a\.log cannot be written by the server's account")
        self.assertNotIn("public.crt cannot", p.stderr)
        self.assertIn("test failed", p.stderr)

    def test_missing_state_directory_made_for_the_account(self):
        # root creates it before the switch, where the account could not
        # (its parent is root's 0755), and gives it to the account
        parent = self.work.mkdir("rootvar", mode=0o755, owner="root", group="root")
        state = os.path.join(parent, "lib", "guise")
        p = self.check(base_config(self.work, state_directory=state), "state-t")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(state), "guised -t created it")
        g = self.start_guised(base_config(self.work, state_directory=state), name="state-run")
        st = os.stat(state)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (*gh.service_ids(), 0o700))
        self.assertEqual(os.stat(os.path.dirname(state)).st_uid, 0)
        g.stop_clean()

    def test_good_file_passes(self):
        p = self.check(base_config(self.work), "good")
        self.assertEqual(p.returncode, 0, p.stderr)


def _useradd(*args):
    mutex = os.open(gh._MUTEX, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        import fcntl

        fcntl.flock(mutex, fcntl.LOCK_EX)
        name = args[-1]
        if not gh._exists_user(name):
            gh._run(["useradd", "-M", "-s", "/usr/sbin/nologin", *args])
    finally:
        os.close(mutex)


def _userdel(name):
    mutex = os.open(gh._MUTEX, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        import fcntl

        fcntl.flock(mutex, fcntl.LOCK_EX)
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)
    finally:
        os.close(mutex)


class RealAccounts(gh.GuiseTestCase):
    """Real accounts: one with primary group users (100), as useradd -N
    makes them, and a low-uid guest."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gh.require_root("creating accounts in gid 100")
        _useradd("-N", "-g", "users", "-G", "audio", "-K", "UID_MIN=1000", U100)
        cls.addClassCleanup(_userdel, U100)
        _useradd("--system", "-U", GUEST)
        cls.addClassCleanup(_userdel, GUEST)
        assert pwd.getpwnam(U100).pw_gid == 100 and pwd.getpwnam(GUEST).pw_uid < 1000
        w = cls.work
        w.write("users.digest", ha1_line("u100", "u100-pw") + ha1_line("mallory", "mallory-pw"), mode=0o600)
        w.write("accounts.map", f"u100 {U100}\nmallory {GUEST}\n", mode=0o600)
        w.write("pub/mine.txt", "mine\n", mode=0o600, owner=U100, group="users")
        w.write("pub/audio.txt", "audio\n", mode=0o640, owner="root", group="audio")
        w.write("pub/guest.txt", "guest\n", mode=0o600, owner=GUEST, group=GUEST)

    def config(self, **server):
        cfg = gh.Config(authentication="anonymous digest", authorization="fs-acl", realm=REALM,
                        admin_listen="none", auth_failure_delay=0, auth_lockout_failures=0,
                        state_directory=self.work.mkdir("state"), **server)
        cfg.plugin("anonymous", account=GUEST)
        cfg.plugin("digest", user_file=self.work.join("users.digest"), account_map=self.work.join("accounts.map"),
                   algorithms="MD5")
        cfg.point("pub", self.work.join("pub"))
        # the same files behind Digest alone: curl --digest sends its
        # credentials only after a 401, which the guest would not get
        cfg.point("members", self.work.join("pub"), authentication="digest")
        return cfg

    def digest(self, srv, path, user, pw):
        r = gh.curl(srv.url(path.replace("/pub/", "/members/")), "--digest", "-u", f"{user}:{pw}")
        r.events = srv.events()[-3000:]
        return r

    def test_primary_group_users_logs_in(self):
        srv = self.start_guised(self.config())
        r = self.digest(srv, "/pub/mine.txt", "u100", "u100-pw")
        self.assertEqual((r.status, r.body), (200, b"mine\n"), r.events)
        self.assertNotIn("refused by the min-uid policy", srv.events())
        # audio (29) is below min-gid: not in the token, so root:audio 0640 is refused
        self.assertEqual(self.digest(srv, "/pub/audio.txt", "u100", "u100-pw").status, 403)

    def test_allow_groups_keeps_a_low_group(self):
        srv = self.start_guised(self.config(allow_groups="audio"))
        r = self.digest(srv, "/pub/audio.txt", "u100", "u100-pw")
        self.assertEqual((r.status, r.body), (200, b"audio\n"), r.events)

    def test_min_gid_moves_the_limit(self):
        srv = self.start_guised(self.config(min_gid="101"))
        self.assertIn(self.digest(srv, "/pub/mine.txt", "u100", "u100-pw").status, (401, 403))
        srv.wait_for_event(rf"user 'u100' authenticated but account '{U100}' is refused")

    def test_guest_only_for_anonymous(self):
        srv = self.start_guised(self.config())
        r = gh.curl(srv.url("/pub/guest.txt"))
        self.assertEqual((r.status, r.body), (200, b"guest\n"), "anonymous clients get the guest")
        r = self.digest(srv, "/pub/guest.txt", "mallory", "mallory-pw")
        self.assertNotEqual(r.status, 200, r)
        self.assertNotIn(b"guest", r.body)
        srv.wait_for_event(rf"user 'mallory' authenticated but account '{GUEST}' is refused")


if __name__ == "__main__":
    gh.main()
