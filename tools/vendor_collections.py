#!/usr/bin/env python3
"""Install collections offline from the PyPI ``ansible`` wheel into a collections path.

Ansible Galaxy is not reachable from our machines; the collections we depend on ship inside the
``ansible`` package on PyPI. This extracts just the ones named, already in installed-collection
form (MANIFEST.json + FILES.json), without installing the whole package.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from pathlib import Path


def extract(wheel: Path, dest: Path, names: list[str]) -> list[str]:
    root = dest / "ansible_collections"
    installed = []
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
        for name in names:
            namespace, collection = name.split(".", 1)
            prefix = f"ansible_collections/{namespace}/{collection}/"
            wanted = [m for m in members if m.startswith(prefix)]
            if not wanted:
                raise SystemExit(f"{wheel.name} holds no collection {name}")
            shutil.rmtree(root / namespace / collection, ignore_errors=True)
            for member in wanted:
                archive.extract(member, dest)
            installed.append(name)
    return installed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="path to ansible-*.whl")
    parser.add_argument(
        "--dest",
        type=Path,
        required=True,
        help="collections path (holds ansible_collections/)",
    )
    parser.add_argument("collections", nargs="+", help="collection names, e.g. community.windows")
    args = parser.parse_args(argv)
    for name in extract(args.wheel, args.dest, args.collections):
        print(f"installed {name} into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
