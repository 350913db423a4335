"""Vendor the chart libraries from the npm registry: `python -m server.web.vendor`.

The UI draws Altair's Vega-Lite specs with vega, vega-lite and vega-embed served by Seedboard
itself (an air-gapped cluster has no CDN). The versions are pinned here to the ones the
installed Altair targets: Vega-Lite exactly `alt.SCHEMA_VERSION`, vega and vega-embed the
majors of `altair/vegalite/v6/display.py` (VEGA_VERSION, VEGAEMBED_VERSION);
tests/web/test_vendor.py fails when Altair moves on. To update: change PACKAGES, run this
module, review and commit `server/web/static/web/vendor/`.

For each package it runs `npm pack <name>@<version>`, compares the tarball's SHA-512 with the
registry's `dist.integrity` (`npm view`), extracts the browser (UMD) build, its source map when
the package ships one (the min.js files that end in a `sourceMappingURL` comment need it, or
Django's ManifestStaticFilesStorage fails on collectstatic) and the LICENSE, and writes
`SHA256SUMS` (the `sha256sum -c` format) and `versions.json`. The CSP-safe expression
interpreter (npm `vega-interpreter`) is bundled inside vega-embed's build, which uses it when
embedded with `ast: true`, so it needs no file of its own.

Needs only the standard library and `npm` on the PATH; it never imports Django.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "web" / "vendor"

# name -> (version, files to take from the package's build/ folder). Load order: vega, vega-lite, vega-embed.
PACKAGES: dict[str, tuple[str, list[str]]] = {
    "vega": ("6.4.0", ["vega.min.js"]),
    "vega-lite": ("6.4.1", ["vega-lite.min.js", "vega-lite.min.js.map"]),
    "vega-embed": ("7.3.0", ["vega-embed.min.js", "vega-embed.min.js.map"]),
}
CHECKSUMS = "SHA256SUMS"
VERSIONS = "versions.json"


def _npm(*args: str, cwd: Path) -> str:
    return subprocess.run(["npm", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def checksums(directory: Path = VENDOR_DIR) -> dict[str, str]:
    """SHA-256 of every vendored file except the checksum list itself, by file name."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
        if path.is_file() and path.name != CHECKSUMS
    }


def read_checksum_list(directory: Path = VENDOR_DIR) -> dict[str, str]:
    lines = (directory / CHECKSUMS).read_text().splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}


def vendor(directory: Path = VENDOR_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    versions: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (version, files) in PACKAGES.items():
            spec = f"{name}@{version}"
            expected = _npm("view", spec, "dist.integrity", cwd=work).strip()
            tarball = work / json.loads(_npm("pack", spec, "--json", cwd=work))[0]["filename"]
            if _integrity(tarball) != expected:
                raise SystemExit(f"{spec}: tarball does not match the registry's dist.integrity {expected}")
            with tarfile.open(tarball) as archive:
                for member, target in [(f"package/build/{f}", f) for f in files] + [
                    ("package/LICENSE", f"{name}.LICENSE")
                ]:
                    extracted = archive.extractfile(member)
                    if extracted is None:
                        raise SystemExit(f"{spec}: {member} is not a file")
                    (directory / target).write_bytes(extracted.read())
            versions[name] = {"version": version, "integrity": expected}
            print(f"vendored {spec}: {', '.join(files)}")
    (directory / VERSIONS).write_text(json.dumps(versions, indent=2) + "\n")
    sums = checksums(directory)
    (directory / CHECKSUMS).write_text("".join(f"{digest}  {name}\n" for name, digest in sums.items()))


if __name__ == "__main__":
    vendor(Path(sys.argv[1]) if len(sys.argv) > 1 else VENDOR_DIR)
