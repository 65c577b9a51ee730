"""Checks that libguise.so exports exactly the functions listed in
src/core/libguise.exports (GUISE_API), so that a new export - or an internal
leaking out - is a conscious change. Usage: check_exports.py LIB LIST."""

import subprocess
import sys


def main():
    lib, listed = sys.argv[1], sys.argv[2]
    with open(listed) as f:
        want = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    have = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and not parts[2].startswith("_"):
            have.add(parts[2])
    extra, missing = sorted(have - want), sorted(want - have)
    for name in extra:
        print(f"exported but not listed in {listed}: {name}")
    for name in missing:
        print(f"listed but not exported: {name}")
    if extra or missing:
        return 1
    print(f"{len(have)} exports, as listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
