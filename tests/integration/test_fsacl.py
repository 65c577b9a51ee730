"""fs-acl with impersonation (root only): every open runs as the identity's
account, so owners, modes and POSIX ACLs decide, in the kernel. The same
cases run with both impersonation mechanisms (io_uring personalities and
per-thread credential syscalls).

Accounts (guise_harness.TestAccounts): guise-t-alice and guise-t-carol are
in guise-t-staff, guise-t-bob is not. Three servers per mechanism:
  anon   authentication = anonymous (nobody can challenge: refusals are 403)
  alice  anonymous hello, hello impersonates guise-t-alice
  bob    anonymous hello, hello impersonates guise-t-bob
"""

import json
import re

import guise_harness as gh
from guise_harness import ALICE, BOB, CAROL, STAFF

BODY = {
    "public.txt": b"public\n",
    "alice-only.txt": b"alice only\n",
    "staff.txt": b"staff\n",
    "bob-acl.txt": b"carol's, bob may read\n",
    "staff-acl.txt": b"root's, staff may read\n",
    "root-only.txt": b"root only\n",
    "private/secret.txt": b"alice's secret\n",
    "nolist/x.txt": b"findable by name\n",
}


class FsAclCases:
    MODE = None

    @classmethod
    def setUpClass(cls):
        gh.require_root(f"fs-acl with impersonation = {cls.MODE}")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        w = cls.work
        w.mkdir("content", mode=0o755, owner="root", group="root")
        w.write("content/public.txt", BODY["public.txt"], mode=0o644, owner=ALICE, group=ALICE)
        w.write("content/alice-only.txt", BODY["alice-only.txt"], mode=0o600, owner=ALICE, group=ALICE)
        w.write("content/staff.txt", BODY["staff.txt"], mode=0o640, owner=ALICE, group=STAFF)
        w.write(
            "content/bob-acl.txt", BODY["bob-acl.txt"], mode=0o600, owner=CAROL, group=CAROL, acl=[f"u:{BOB}:r"]
        )
        w.write(
            "content/staff-acl.txt",
            BODY["staff-acl.txt"],
            mode=0o600,
            owner="root",
            group="root",
            acl=[f"g:{STAFF}:r"],
        )
        w.write("content/root-only.txt", BODY["root-only.txt"], mode=0o600, owner="root", group="root")
        w.mkdir("content/private", mode=0o700, owner=ALICE, group=ALICE)
        w.write("content/private/secret.txt", BODY["private/secret.txt"], mode=0o644, owner=ALICE, group=ALICE)
        w.mkdir("content/nolist", mode=0o711, owner="root", group="root")
        w.write("content/nolist/x.txt", BODY["nolist/x.txt"], mode=0o644)
        content = w.join("content")

        def server(name, authn, account=None):
            cfg = gh.Config(
                authentication=authn, authorization="fs-acl", impersonation=cls.MODE, auth_failure_delay=0
            )
            if account:
                gh.hello_config(cfg, account=account, authentication=authn)
            cfg.point("c", content)
            return cls.start_guised_class(cfg, name=f"{cls.MODE}-{name}")

        cls.anon = server("anon", "anonymous")
        cls.alice = server("alice", "anonymous hello", ALICE)
        cls.bob = server("bob", "anonymous hello", BOB)

    def get(self, srv, path, user=None):
        headers = {"Authorization": gh.hello_auth(user)} if user else None
        return gh.curl(srv.url("/c/" + path), headers=headers)

    def assertServed(self, srv, path, user=None):
        r = self.get(srv, path, user)
        self.assertEqual(r.status, 200, f"{path} as {user or 'guest'}: {r}")
        self.assertEqual(r.body, BODY[path])

    def assertDenied(self, srv, path, user, status):
        r = self.get(srv, path, user)
        self.assertEqual(r.status, status, f"{path} as {user or 'guest'}: {r}")
        self.assertNotIn(BODY.get(path, b"\0never\0"), r.body)
        if status == 401:
            self.assertEqual(r.header_all("WWW-Authenticate"), ['Hello realm="guise"'])
        return r

    def test_mechanism_in_use(self):
        for srv in (self.anon, self.alice, self.bob):
            self.assertIn(f"(impersonation: {self.MODE},", srv.events())

    def test_guest_reads_world_readable(self):
        for srv in (self.anon, self.alice):
            self.assertServed(srv, "public.txt")

    def test_guest_unreadable_401_with_challenger(self):
        for path in ("alice-only.txt", "staff.txt", "bob-acl.txt", "staff-acl.txt", "root-only.txt"):
            with self.subTest(path=path):
                self.assertDenied(self.alice, path, None, 401)

    def test_guest_unreadable_403_without_challenger(self):
        for path in ("alice-only.txt", "staff.txt", "bob-acl.txt", "root-only.txt"):
            with self.subTest(path=path):
                r = self.assertDenied(self.anon, path, None, 403)
                self.assertEqual(r.header_all("WWW-Authenticate"), [])

    def test_missing_file_404(self):
        for srv in (self.anon, self.alice):
            self.assertEqual(self.get(srv, "missing.txt").status, 404)
        self.assertEqual(self.get(self.alice, "missing.txt", "alice").status, 404)

    def test_unsearchable_directory_hides_existence(self):
        # Inside alice's 0700 directory a guest cannot tell an existing file
        # from a missing one: both are refused the same way, never 404.
        for srv, status in ((self.anon, 403), (self.alice, 401)):
            a = self.assertDenied(srv, "private/secret.txt", None, status)
            b = self.assertDenied(srv, "private/no-such-file.txt", None, status)
            self.assertEqual(a.body, b.body)
            self.assertDenied(srv, "private/", None, status)
            self.assertDenied(srv, "private/sub/deeper.txt", None, status)
        # bob is authenticated but cannot search it either: 403, not 404.
        self.assertDenied(self.bob, "private/secret.txt", "bob", 403)
        self.assertDenied(self.bob, "private/no-such-file.txt", "bob", 403)
        # Its owner sees the difference.
        self.assertServed(self.alice, "private/secret.txt", "alice")
        self.assertEqual(self.get(self.alice, "private/no-such-file.txt", "alice").status, 404)

    def test_search_only_directory(self):
        # 0711: a guest may open a file it knows the name of, not list.
        self.assertServed(self.anon, "nolist/x.txt")
        self.assertEqual(self.get(self.anon, "nolist/").status, 403)
        self.assertEqual(self.get(self.alice, "nolist/").status, 401)
        self.assertEqual(self.get(self.anon, "nolist/missing.txt").status, 404)

    def test_owner_mode(self):
        self.assertServed(self.alice, "alice-only.txt", "alice")
        self.assertDenied(self.bob, "alice-only.txt", "bob", 403)

    def test_group_mode(self):
        self.assertServed(self.alice, "staff.txt", "alice")
        self.assertDenied(self.bob, "staff.txt", "bob", 403)

    def test_acl_user_entry(self):
        self.assertServed(self.bob, "bob-acl.txt", "bob")
        self.assertDenied(self.alice, "bob-acl.txt", "alice", 403)

    def test_acl_group_entry(self):
        self.assertServed(self.alice, "staff-acl.txt", "alice")
        self.assertDenied(self.bob, "staff-acl.txt", "bob", 403)

    def test_server_rights_are_not_used(self):
        # The server runs as root; no identity may borrow that.
        for srv, user in ((self.alice, "alice"), (self.bob, "bob"), (self.anon, None)):
            self.assertDenied(srv, "root-only.txt", user, 403)

    def test_two_accounts_see_different_results(self):
        for path, alice_ok in (("alice-only.txt", True), ("bob-acl.txt", False), ("staff.txt", True)):
            with self.subTest(path=path):
                a = self.get(self.alice, path, "someone")
                b = self.get(self.bob, path, "someone")
                self.assertEqual((a.status, b.status), (200, 403) if alice_ok else (403, 200))

    def test_range_as_identity(self):
        r = gh.curl(
            self.alice.url("/c/alice-only.txt"),
            headers={"Authorization": gh.hello_auth("alice"), "Range": "bytes=0-4"},
        )
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, BODY["alice-only.txt"][:5])
        r = gh.curl(self.anon.url("/c/alice-only.txt"), headers={"Range": "bytes=0-4"})
        self.assertEqual(r.status, 403)

    def test_listing_as_identity(self):
        r = self.get(self.alice, "private/?format=json", "alice")
        self.assertEqual(r.status, 200)
        self.assertEqual([e["name"] for e in json.loads(r.body)["entries"]], ["secret.txt"])
        # The top listing shows names; sizes come from stat as the identity.
        r = self.get(self.anon, "?format=json")
        self.assertEqual(r.status, 200, r)
        ents = {e["name"]: e for e in json.loads(r.body)["entries"]}
        self.assertIn("private", ents)
        self.assertEqual(ents["public.txt"]["size"], len(BODY["public.txt"]))

    def test_access_log_identity(self):
        self.get(self.alice, "alice-only.txt", "alice-the-user")
        self.alice.wait_for_access(
            rf'^127\.0\.0\.1 alice-the-user {ALICE} .*"GET /c/alice-only\.txt HTTP/1\.1" 200 {len(BODY["alice-only.txt"])} .* Hello c \d+$'
        )
        self.get(self.anon, "alice-only.txt")
        self.anon.wait_for_access(r'^127\.0\.0\.1 anonymous nobody .*"GET /c/alice-only\.txt HTTP/1\.1" 403 ')

    def test_denials_do_not_put_scope_in_critical_state(self):
        for _ in range(3):
            self.get(self.anon, "root-only.txt")
        self.assertServed(self.anon, "public.txt")
        self.assertNotRegex(self.anon.events(), re.compile(r"critical", re.I))


class FsAclIoUring(FsAclCases, gh.GuiseTestCase):
    MODE = "io_uring"


class FsAclSyscalls(FsAclCases, gh.GuiseTestCase):
    MODE = "syscalls"


if __name__ == "__main__":
    gh.main()
