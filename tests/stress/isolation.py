#!/usr/bin/env python3
"""Impersonation isolation under concurrent load (root only).

Eight OS accounts (guise-s-u1..u8, three groups) and a publishing point whose
files each have a different set of readers: owner-only 0600 files, 0640 group
files, a 0604 file that its group may NOT read, and POSIX ACLs (named users,
named groups, a negative user entry, a mask that cancels an entry). The test
first checks the intended reader sets with the kernel itself (a forked child
per account opens every file with that account's credentials), then loads one
guised per impersonation mechanism (io_uring, syscalls) with worker processes
that send requests as randomly chosen Digest users (MD5 and SHA-256, qop auth
and auth-int, a fresh nonce-count per request on a nonce each worker holds)
and anonymously, mostly on keep-alive connections that change user from one
request to the next, some on a fresh connection each, some with a byte range.

Every answer must be exactly what that identity may get: the file's bytes
(each file's content is unique) for a reader, 403 for a Digest user who may
not read it, 401 with a challenge for an anonymous client who may not; a
refusal must carry no file's bytes. Any difference is a mismatch and fails.

Knobs: GUISE_STRESS_REQUESTS (requests per mechanism, default 20000),
GUISE_STRESS_PROCS (client processes, default 2), GUISE_STRESS_MECHANISMS
(default "io_uring syscalls"). Exit 0 pass, 1 fail, 77 skip (not root).
"""

import grp
import hashlib
import http.client
import multiprocessing
import os
import pwd
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import guise_harness as gh  # noqa: E402

PREFIX = "guise-s-"
USERS = [f"{PREFIX}u{i}" for i in range(1, 9)]
GA, GB, GC = f"{PREFIX}ga", f"{PREFIX}gb", f"{PREFIX}gc"
GROUPS = {GA: USERS[0:4], GB: USERS[4:8], GC: [USERS[1], USERS[4], USERS[7]]}
REALM = "stress"
ANON = "anonymous"


def logical(account):
    """Digest user name of an account (mapped through the account map)."""
    return "s-" + account[len(PREFIX):]


def password(account):
    return f"pw {account} secret"


# ---- accounts -----------------------------------------------------------------


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.strip()}")


def remove_accounts():
    for u in USERS:
        subprocess.run(["userdel", u], capture_output=True)
    for g in list(GROUPS) + USERS:
        subprocess.run(["groupdel", g], capture_output=True)


def create_accounts():
    remove_accounts()  # leftovers of a crashed run
    for g in GROUPS:
        run(["groupadd", "-K", "GID_MIN=1000", g])
    for u in USERS:
        extra = [g for g, members in GROUPS.items() if u in members]
        run(["useradd", "-M", "-U", "-K", "UID_MIN=1000", "-s", "/usr/sbin/nologin", "-G", ",".join(extra), u])
        if pwd.getpwnam(u).pw_uid < 1000:
            raise RuntimeError(f"{u} got a uid below 1000")


# ---- files and who may read them --------------------------------------------------


def file_specs():
    """(name, owner, group, mode, acl entries, intended readers)."""
    u = USERS
    ga, gb, gc = (set(GROUPS[g]) for g in (GA, GB, GC))
    everyone = set(u) | {ANON}
    specs = []
    for acct in u:  # owner only
        specs.append((f"own-{acct[len(PREFIX):]}.bin", acct, acct, 0o600, [], {acct}))
    specs += [
        ("grp-a.bin", u[0], GA, 0o640, [], ga),
        ("grp-b.bin", u[4], GB, 0o640, [], gb),
        ("grp-c.bin", "root", GC, 0o640, [], gc),
        # Group bits 0, other bits r: the group's members are the ones refused.
        ("not-group-a.bin", "root", GA, 0o604, [], everyone - ga),
        ("acl-users.bin", "root", "root", 0o600, [f"u:{u[2]}:r", f"u:{u[6]}:r"], {u[2], u[6]}),
        ("acl-group.bin", "root", "root", 0o600, [f"g:{GA}:r", f"u:{u[5]}:r"], ga | {u[5]}),
        # A named-user entry without r shuts out one user that "other" admits.
        ("acl-negative.bin", u[0], u[0], 0o644, [f"u:{u[1]}:-"], everyone - {u[1]}),
        ("acl-two-groups.bin", "root", GB, 0o640, [f"g:{GC}:r"], gb | gc),
        # The mask removes the named entry's r: nobody but root.
        ("acl-masked.bin", "root", "root", 0o600, [f"u:{u[3]}:r", "m::-"], set()),
        ("public.bin", "root", "root", 0o644, [], everyone),
    ]
    return specs


def make_files(work, rng):
    files = {}
    for name, owner, group, mode, acl, readers in file_specs():
        marker = f"guise-stress-file:{name}:{rng.getrandbits(128):032x}\n".encode()
        body = marker + rng.randbytes(rng.randrange(64, 24000))
        work.write(f"media/{name}", body, mode=mode, owner=owner, group=group)
        if acl:
            subprocess.run(["setfacl", "-m", ",".join(acl), work.join("media", name)], check=True)
        files[name] = {"body": body, "marker": marker, "readers": readers}
    return files


def kernel_readers(path_by_name):
    """Which identities the kernel lets open each file: a forked child per
    account switches to its uid, gid and groups (as the token store builds
    them) and tries. The test then knows its setup says what it means."""
    out = {}
    for ident in USERS + [ANON]:
        acct = "nobody" if ident == ANON else ident
        pw = pwd.getpwnam(acct)
        groups = [g for g in os.getgrouplist(acct, pw.pw_gid) if g != 0]
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.setgroups(groups)
                os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
                os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
                ok = []
                for name, p in path_by_name.items():
                    try:
                        os.close(os.open(p, os.O_RDONLY))
                        ok.append(name)
                    except PermissionError:
                        pass
                os.write(w, "\n".join(ok).encode())
            finally:
                os._exit(0)
        os.close(w)
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        os.waitpid(pid, 0)
        for name in path_by_name:
            out.setdefault(name, set())
        for name in filter(None, data.decode().split("\n")):
            out[name].add(ident)
    return out


# ---- the Digest client ------------------------------------------------------------

ALGS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
CHALLENGE_RX = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]+))')


def parse_challenges(headers):
    """{algorithm: (nonce, opaque)} from the WWW-Authenticate: Digest headers."""
    out = {}
    for k, v in headers:
        if k.lower() != "www-authenticate" or not v.startswith("Digest "):
            continue
        params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in CHALLENGE_RX.finditer(v[7:])}
        out[params.get("algorithm", "MD5")] = (params["nonce"], params.get("opaque"))
    return out


class DigestClient:
    """One worker's credentials: per algorithm a nonce and its nonce-count."""

    def __init__(self, challenges, worker):
        self.nonces = challenges
        # The server may give every algorithm the same nonce: counts are per nonce.
        self.nc = {nonce: 0 for nonce, _ in challenges.values()}
        self.worker = worker
        self.n = 0

    def header(self, account, alg, qop, uri):
        h = ALGS[alg]
        hx = lambda s: h(s.encode()).hexdigest()  # noqa: E731
        nonce, opaque = self.nonces[alg]
        self.nc[nonce] += 1
        self.n += 1
        nc = f"{self.nc[nonce]:08x}"
        cnonce = f"w{self.worker}c{self.n}"
        user = logical(account)
        ha1 = hx(f"{user}:{REALM}:{password(account)}")
        ha2 = hx(f"GET:{uri}") if qop == "auth" else hx(f"GET:{uri}:{hx('')}")
        resp = hx(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        v = (
            f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", '
            f'algorithm={alg}, response="{resp}", qop={qop}, nc={nc}, cnonce="{cnonce}"'
        )
        if opaque:
            v += f', opaque="{opaque}"'
        return v


# ---- one client process ------------------------------------------------------------------


def fetch_challenges(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/media/acl-masked.bin")  # nobody may read it: a 401
    r = c.getresponse()
    r.read()
    c.close()
    ch = parse_challenges(r.getheaders())
    missing = set(ALGS) - set(ch)
    if r.status != 401 or missing:
        raise RuntimeError(f"expected 401 with Digest MD5 and SHA-256 challenges, got {r.status} {r.getheaders()}")
    return ch


def check(resp_status, headers, body, ident, name, rng_range, files):
    """None when the answer is right, else why not."""
    f = files[name]
    allowed = ident in f["readers"]
    if allowed:
        want = f["body"]
        status = 200
        if rng_range:
            a, b = rng_range
            want, status = want[a : b + 1], 206
        if resp_status != status:
            return f"status {resp_status}, expected {status}"
        if body != want:
            return f"body differs ({len(body)} bytes, expected {len(want)})"
        return None
    expected = 401 if ident == ANON else 403
    if resp_status != expected:
        return f"status {resp_status}, expected {expected}"
    if expected == 401 and not any(k.lower() == "www-authenticate" for k, _ in headers):
        return "401 without a challenge"
    for other in files.values():
        if other["marker"] in body or other["body"][-32:] in body:
            return "refusal carries file bytes"
    return None


class Conn:
    """A keep-alive connection and the identity guised remembers on it: a
    request without credentials on a connection where a non-anonymous
    plug-in has authenticated someone runs as that user (pipeline.c,
    route_authentication), so the expectation follows it."""

    def __init__(self, port):
        self.port = port
        self.http = None
        self.remembered = None

    def request(self, uri, headers, fresh):
        if self.http is None or fresh:
            self.close()
            self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.http.request("GET", uri, headers=headers)
            r = self.http.getresponse()
            body = r.read()
            if r.will_close:
                self.close()
            return r.status, r.getheaders(), body
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return 0, [], repr(e).encode()

    def close(self):
        if self.http is not None:
            self.http.close()
        self.http = None
        self.remembered = None


def worker(args):
    index, port, count, seed, files = args
    rng = random.Random(seed)
    names = sorted(files)
    client = DigestClient(fetch_challenges(port), index)
    stats = {"requests": 0, "allowed": 0, "denied": 0, "mismatches": 0, "remembered": 0, "examples": []}
    # Digest requests share one connection, changing user from request to
    # request; anonymous requests mostly go on a connection of their own,
    # one in ten on the Digest one.
    authc, anonc = Conn(port), Conn(port)
    for _ in range(count):
        ident = rng.choice(USERS + [ANON])
        name = rng.choice(names)
        uri = f"/media/{name}"
        headers = {}
        byte_range = None
        if rng.random() < 0.05:
            size = len(files[name]["body"])
            a = rng.randrange(size)
            byte_range = (a, rng.randrange(a, size))
            headers["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        if ident != ANON:
            alg = rng.choice(("MD5", "SHA-256"))
            qop = "auth-int" if rng.random() < 0.2 else "auth"
            headers["Authorization"] = client.header(ident, alg, qop, uri)
            conn = authc
        else:
            conn = authc if rng.random() < 0.1 else anonc
        fresh = rng.random() < 0.05
        if fresh:
            conn.close()
        expect_as = ident if ident != ANON else (conn.remembered or ANON)
        status, rh, body = conn.request(uri, headers, False)
        # Digest is per request: a request without credentials on a
        # connection that authenticated runs as the guest, never as the
        # connection's last user (conn.remembered stays None).
        stats["requests"] += 1
        if ident == ANON and expect_as != ANON:
            stats["remembered"] += 1
        why = check(status, rh, body, expect_as, name, byte_range, files)
        if why is None:
            stats["allowed" if status in (200, 206) else "denied"] += 1
        else:
            stats["mismatches"] += 1
            if len(stats["examples"]) < 5:
                stats["examples"].append(
                    f"{ident} (as {expect_as}) GET {uri} {headers.get('Range', '')}: {why}; body {body[:120]!r}"
                )
    authc.close()
    anonc.close()
    return stats


# ---- one mechanism --------------------------------------------------------------------


def run_mechanism(work, files, mechanism, total, procs, seed):
    cfg = gh.Config(
        impersonation=mechanism,
        authentication="anonymous digest",
        authorization="fs-acl",
        realm=REALM,
        state_directory=work.path,
        io_threads=2,
        auth_lockout_failures=0,
    )
    cfg.plugin("anonymous", account="nobody")
    cfg.plugin(
        "digest",
        user_file=work.join("users.digest"),
        account_map=work.join("accounts.map"),
        algorithms="SHA-256 MD5",
        qop="auth,auth-int",
        nonce_lifetime=3600,
    )
    cfg.point("media", work.join("media"))
    srv = gh.Guised(work, cfg, name=f"guised-{mechanism}")
    srv.start()
    try:
        ev = srv.events()
        per = [total // procs + (1 if i < total % procs else 0) for i in range(procs)]
        jobs = [(i, srv.port, per[i], seed * 1000 + i, files) for i in range(procs)]
        t0 = time.monotonic()
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            results = pool.map(worker, jobs)
        took = time.monotonic() - t0
        alive = srv.running()
    finally:
        rc = srv.stop()
    agg = {k: sum(r[k] for r in results) for k in ("requests", "allowed", "denied", "mismatches", "remembered")}
    examples = [e for r in results for e in r["examples"]]
    print(
        f"{mechanism}: requests {agg['requests']}, allowed {agg['allowed']}, denied {agg['denied']}, "
        f"mismatches {agg['mismatches']} (anonymous on an authenticated connection: {agg['remembered']}), "
        f"{agg['requests'] / took:.0f} req/s ({took:.1f} s, {procs} client processes)",
        flush=True,
    )
    for e in examples:
        print(f"  MISMATCH {e}", flush=True)
    ok = agg["mismatches"] == 0 and agg["requests"] == total and alive and rc == 0
    if not alive or rc != 0:
        print(f"  guised {mechanism} died or exited with {rc}; events:\n{srv.events()[-3000:]}")
    if ("impersonation" in ev) and mechanism not in ev:
        print(f"  note: events do not name {mechanism}:\n{ev[-1500:]}")
    return ok, agg


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (creates accounts, impersonates them)", flush=True)
        return 77
    total = int(os.environ.get("GUISE_STRESS_REQUESTS", "20000"))
    procs = int(os.environ.get("GUISE_STRESS_PROCS", "2"))
    mechanisms = os.environ.get("GUISE_STRESS_MECHANISMS", "io_uring syscalls").split()
    seed = int(os.environ.get("GUISE_STRESS_SEED", str(int(time.time()))))
    print(f"isolation stress: {total} requests per mechanism, seed {seed}", flush=True)
    rng = random.Random(seed)
    work = gh.Workdir(prefix="guise-stress-")
    create_accounts()
    try:
        work.mkdir("media", mode=0o755)
        files = make_files(work, rng)
        seen = kernel_readers({n: work.join("media", n) for n in files})
        bad = {n: (sorted(seen[n]), sorted(f["readers"])) for n, f in files.items() if seen[n] != f["readers"]}
        if bad:
            print(f"FAIL: the kernel's readers differ from the test's model: {bad}")
            return 1
        passwd = os.path.join(gh.BUILD_DIR, "src", "cli", "guise-passwd")
        users_file = work.join("users.digest")
        for i, acct in enumerate(USERS):
            for alg in ("MD5", "SHA-256"):
                flags = ["-c"] if i == 0 and alg == "MD5" else []
                subprocess.run(
                    [passwd, *flags, "-a", alg, "--stdin", users_file, REALM, logical(acct)],
                    input=password(acct) + "\n",
                    text=True,
                    check=True,
                    capture_output=True,
                )
        # made by guise-passwd as root; read by the service account guised switches to
        gh.service_readable(users_file)
        work.write("accounts.map", "".join(f"{logical(a)} {a}\n" for a in USERS), mode=0o600)
        allowed_pairs = sum(len(f["readers"]) for f in files.values())
        print(f"{len(files)} files, {len(USERS)} accounts + anonymous: {allowed_pairs} of {len(files) * 9} pairs may read")
        ok = True
        for m in mechanisms:
            good, _ = run_mechanism(work, files, m, total, procs, seed)
            ok = ok and good
        print("PASS" if ok else "FAIL", flush=True)
        return 0 if ok else 1
    finally:
        work.cleanup()
        remove_accounts()


if __name__ == "__main__":
    sys.exit(main())
