"""`guised -t` checks a configuration and writes nothing (issue 14, "Info"):
not even Digest's nonce key when nonce-key-file names a file outside the
state directory. A missing key is only found creatable (its directory
exists and the server may write there); the check fails where starting
would."""
import os
import subprocess
import time

import guise_harness as gh


def tree(path):
    """Every path below path (relative), for 'nothing was written' checks."""
    out = []
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            out.append(os.path.relpath(os.path.join(root, n), path))
    return sorted(out)


class CheckWritesNothing(gh.GuiseTestCase):
    def config(self, key_file, state):
        self.work.write("pub/a.txt", "a\n")
        users = self.work.write("users.htdigest", "alice:guise:0123456789abcdef0123456789abcdef\n", mode=0o644)
        if gh.is_root():
            gh.service_readable(users)
        return self.work.write(
            f"{self._testMethodName}.conf",
            "[server]\n"
            f"listen = 127.0.0.1:{gh.free_port()}\n"
            "authentication = digest\n"
            f"state-directory = {state}\n"
            "event-log = stderr\n"
            "admin-listen = none\n"
            + ("impersonation = off\n" if os.geteuid() != 0 else "")
            + '[plugin "digest"]\n'
            f"user-file = {users}\n"
            f"nonce-key-file = {key_file}\n"
            '[publishing-point "pub"]\n'
            f"path = {self.work.join('pub')}\n",
        )

    def fresh_dir(self, name, mode=0o700):
        d = self.work.mkdir(name, mode=mode)
        if gh.is_root():  # where the service account writes its key
            os.chown(d, *gh.service_ids())
        return d

    def check(self, path):
        return subprocess.run([gh.GUISED, "-t", "-c", path], capture_output=True, text=True, timeout=20)

    def test_key_outside_the_state_directory_is_not_created(self):
        keys = self.fresh_dir("keys")
        state = self.fresh_dir("state")
        key = os.path.join(keys, "nonce.key")
        path = self.config(key, state)
        before = tree(self.work.path)
        p = self.check(path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("test is successful", p.stdout)
        self.assertEqual(os.listdir(keys), [], "guised -t created the nonce key")
        self.assertEqual(tree(self.work.path), before, "guised -t wrote files")
        # The same file is what a real start creates (the check looked at
        # the right place).
        proc = subprocess.Popen([gh.GUISED, "-c", path], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 15
            while not os.path.exists(key) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
            self.assertEqual(os.stat(key).st_size, 32)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            proc.stderr.close()

    def test_existing_key_is_checked_and_left_alone(self):
        keys = self.fresh_dir("keys-existing")
        key = os.path.join(keys, "nonce.key")
        with open(key, "wb") as f:
            f.write(b"k" * 32)
        os.chmod(key, 0o600)
        if gh.is_root():
            os.chown(key, *gh.service_ids())
        st0 = os.stat(key)
        p = self.check(self.config(key, self.fresh_dir("state-existing")))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        st1 = os.stat(key)
        self.assertEqual((st1.st_mtime_ns, st1.st_size), (st0.st_mtime_ns, 32))
        # A key of the wrong size fails the check as it fails a start.
        with open(key, "wb") as f:
            f.write(b"short")
        p = self.check(self.config(key, self.fresh_dir("state-short")))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(key, p.stderr)

    def test_key_in_a_missing_directory_fails_the_check(self):
        key = self.work.join("no-such-dir", "nonce.key")
        path = self.config(key, self.fresh_dir("state-missing"))
        before = tree(self.work.path)
        p = self.check(path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("test failed", p.stderr)
        self.assertIn(key, p.stderr)
        self.assertEqual(tree(self.work.path), before)

    def test_key_in_a_directory_the_server_cannot_write_fails_the_check(self):
        gh.require_root("the service account")
        keys = self.work.mkdir("keys-root", mode=0o755)  # root's: the service account cannot create there
        key = os.path.join(keys, "nonce.key")
        p = self.check(self.config(key, self.fresh_dir("state-root")))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(key, p.stderr)
        self.assertEqual(os.listdir(keys), [])


if __name__ == "__main__":
    gh.main()
