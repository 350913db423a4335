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

The builds bundle other npm packages, whose licences ship too, as `licenses/<name>-LICENSE.txt`
(listed per build under "bundled" in `versions.json`, with how the version was found):
- vega.min.js: every dependency of vega's packages (vega's rollup config bundles d3 and
  topojson-client too). The third-party ones are in VEGA_BUNDLED, at the versions of the
  package-lock.json of the vega release tag (v6.4.0) the published build was made from; the
  vega-* packages in it come from vega's own repository, under vega's LICENSE.
- vega-lite.min.js: nothing third-party (its source map lists only vega-lite's own sources; the
  vega-* packages come from the vega global at run time).
- vega-embed.min.js: the packages its source map lists under node_modules/. Each is resolved
  from the dependency range that pulls it in (vega-embed's, else a bundled package's) to the
  highest version whose files equal the sources embedded in the map.
Each one is fetched with `npm pack`, checked against `dist.integrity`, and its LICENSE (LICENSE,
LICENSE.md, LICENCE, license.txt ...) copied.

Needs only the standard library and `npm` on the PATH; it never imports Django.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
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
LICENSES = "licenses"

# Third-party packages inside vega.min.js, at the versions of vega v6.4.0's package-lock.json.
VEGA_LOCKFILE = "package-lock.json of vega's release tag v6.4.0 (the published build was made from it)"
VEGA_BUNDLED: dict[str, str] = {
    "d3-array": "3.2.4",
    "d3-color": "3.1.0",
    "d3-delaunay": "6.0.4",
    "d3-dispatch": "3.0.1",
    "d3-dsv": "3.0.1",
    "d3-ease": "3.0.1",
    "d3-force": "3.0.0",
    "d3-format": "3.1.2",
    "d3-geo": "3.1.1",
    "d3-geo-projection": "4.0.0",
    "d3-hierarchy": "3.1.2",
    "d3-interpolate": "3.0.1",
    "d3-path": "3.1.0",
    "d3-quadtree": "3.0.1",
    "d3-scale": "4.0.2",
    "d3-scale-chromatic": "3.1.0",
    "d3-shape": "3.2.0",
    "d3-time": "3.1.0",
    "d3-time-format": "4.1.0",
    "d3-timer": "3.0.1",
    "delaunator": "5.0.1",
    "internmap": "2.0.3",
    "robust-predicates": "3.0.2",
    "topojson-client": "3.1.0",
}
LICENSE_NAME = re.compile(r"package/licen[cs]e(\.md|\.txt)?", re.IGNORECASE)


def _npm(*args: str, cwd: Path) -> str:
    return subprocess.run(["npm", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def license_path(name: str) -> str:
    """Where a bundled package's licence lands, relative to the vendor folder."""
    return f"{LICENSES}/{name}-LICENSE.txt"


def checksums(directory: Path = VENDOR_DIR) -> dict[str, str]:
    """SHA-256 of every vendored file except the checksum list itself, by path relative to the folder."""
    return {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.relative_to(directory).as_posix() != CHECKSUMS
    }


def read_checksum_list(directory: Path = VENDOR_DIR) -> dict[str, str]:
    lines = (directory / CHECKSUMS).read_text().splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0].split("+")[0])[:3])


def _pack(spec: str, work: Path) -> tuple[Path, str]:
    """`npm pack` one package version; the tarball and its (checked) registry integrity."""
    expected = _npm("view", spec, "dist.integrity", cwd=work).strip()
    tarball = work / json.loads(_npm("pack", spec, "--json", cwd=work))[0]["filename"]
    if _integrity(tarball) != expected:
        raise SystemExit(f"{spec}: tarball does not match the registry's dist.integrity {expected}")
    return tarball, expected


def _matching_versions(name: str, spec_range: str, work: Path) -> list[str]:
    """Published versions of `name` satisfying the range, highest first."""
    found = json.loads(_npm("view", f"{name}@{spec_range}", "version", "--json", cwd=work) or "[]")
    versions = [found] if isinstance(found, str) else list(found)
    return sorted(versions, key=_version_key, reverse=True)


def _member(archive: tarfile.TarFile, member: str) -> bytes | None:
    try:
        extracted = archive.extractfile(member)
    except KeyError:
        return None
    return None if extracted is None else extracted.read()


def _bundled_in_map(source_map: bytes) -> dict[str, dict[str, str]]:
    """Package name -> {path inside the package: source text} from a build's source map."""
    data = json.loads(source_map)
    bundled: dict[str, dict[str, str]] = {}
    for source, content in zip(data["sources"], data.get("sourcesContent") or [], strict=False):
        match = re.search(r"node_modules/((?:@[^/]+/)?[^/]+)/(.+)$", source)
        if match:
            files = bundled.setdefault(match.group(1), {})
            if content is not None:
                files[match.group(2)] = content
    return bundled


def _write_license(name: str, spec: str, tarball: Path, directory: Path) -> str:
    """Copy the package's licence file to licenses/; where the text came from."""
    with tarfile.open(tarball) as archive:
        members = sorted(m.name for m in archive.getmembers() if m.isfile() and LICENSE_NAME.fullmatch(m.name))
        text = (_member(archive, members[0]) or b"") if members else b""
        package = json.loads(_member(archive, "package/package.json") or b"{}")
    origin = f"{spec} {members[0].removeprefix('package/')}" if members else ""
    repository = package.get("repository") or {}
    repository_url = repository.get("url", "") if isinstance(repository, dict) else str(repository)
    if not members and "github.com/vega/vega.git" in repository_url and (directory / "vega.LICENSE").exists():
        # Packages of vega's monorepo (vega-interpreter) ship no LICENSE of their own: vega's covers them.
        text, origin = (
            (directory / "vega.LICENSE").read_bytes(),
            "vega.LICENSE (the package ships none; vega's repository)",
        )
    if not text.strip():
        raise SystemExit(f"{spec}: no (or an empty) LICENSE file in the package")
    target = directory / license_path(name)
    if target.exists() and target.read_bytes() != text:
        raise SystemExit(f"{spec}: two bundled versions of {name} with different licences")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text)
    return origin


def _bundled_from_map(
    name: str, version: str, source_map: bytes, directory: Path, work: Path
) -> dict[str, dict[str, str]]:
    """The packages a build's source map lists, each at the highest version in range whose files match."""
    wanted = _bundled_in_map(source_map)
    ranges: dict[str, tuple[str, str]] = {
        dep: (spec_range, f"{name}@{version}")
        for dep, spec_range in json.loads(_npm("view", f"{name}@{version}", "dependencies", "--json", cwd=work)).items()
    }
    result: dict[str, dict[str, str]] = {}
    pending = [dep for dep in wanted if dep in ranges]
    while pending:
        dep = pending.pop(0)
        spec_range, required_by = ranges[dep]
        in_range = _matching_versions(dep, spec_range, work)
        # A build can predate its package.json's range (vega-embed 7.3.0's semver): then the
        # highest earlier version of the same major whose files match.
        major = _version_key(in_range[-1])[0] if in_range else None
        earlier = [
            v
            for v in sorted(
                json.loads(_npm("view", dep, "versions", "--json", cwd=work)), key=_version_key, reverse=True
            )
            if v not in in_range
            and _version_key(v)[0] == major
            and (not in_range or _version_key(v) < _version_key(in_range[-1]))
        ]
        for candidate in in_range + earlier:
            spec = f"{dep}@{candidate}"
            tarball, integrity = _pack(spec, work)
            with tarfile.open(tarball) as archive:
                same = all(_member(archive, f"package/{path}") == text.encode() for path, text in wanted[dep].items())
            if same:
                break
        else:
            raise SystemExit(f"{dep}@{spec_range}: no version's files equal the sources in {name}'s source map")
        origin = _write_license(dep, spec, tarball, directory)
        result[dep] = {
            "version": candidate,
            "integrity": integrity,
            "license": license_path(dep),
            "license_from": origin,
            "resolved": (
                f"highest version of {dep}@{spec_range} (required by {required_by}) whose files "
                if candidate in in_range
                else f"NOT in the range {dep}@{spec_range} declared by {required_by}: no version in it matches the "
                "build; the highest earlier version whose files "
            )
            + f"equal the {len(wanted[dep])} sources of it in the build's source map",
        }
        print(f"  bundled {spec}")
        deps = json.loads(_npm("view", spec, "dependencies", "--json", cwd=work) or "{}")
        for sub, sub_range in deps.items():
            if sub in wanted and sub not in ranges:
                ranges[sub] = (sub_range, spec)
                pending.append(sub)
    missing = set(wanted) - set(result)
    if missing:
        raise SystemExit(f"{name}: no dependency range found for bundled {sorted(missing)}")
    return dict(sorted(result.items()))


def _bundled_pinned(pins: dict[str, str], resolved: str, directory: Path, work: Path) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for dep, version in pins.items():
        spec = f"{dep}@{version}"
        tarball, integrity = _pack(spec, work)
        origin = _write_license(dep, spec, tarball, directory)
        result[dep] = {
            "version": version,
            "integrity": integrity,
            "license": license_path(dep),
            "license_from": origin,
            "resolved": resolved,
        }
        print(f"  bundled {spec}")
    return result


def vendor(directory: Path = VENDOR_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    versions: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (version, files) in PACKAGES.items():
            spec = f"{name}@{version}"
            tarball, expected = _pack(spec, work)
            with tarfile.open(tarball) as archive:
                for member, target in [(f"package/build/{f}", f) for f in files] + [
                    ("package/LICENSE", f"{name}.LICENSE")
                ]:
                    content = _member(archive, member)
                    if content is None:
                        raise SystemExit(f"{spec}: {member} is not a file")
                    (directory / target).write_bytes(content)
            print(f"vendored {spec}: {', '.join(files)}")
            maps = [f for f in files if f.endswith(".map")]
            if name == "vega":
                bundled = _bundled_pinned(VEGA_BUNDLED, VEGA_LOCKFILE, directory, work)
            elif maps:
                bundled = _bundled_from_map(name, version, (directory / maps[0]).read_bytes(), directory, work)
            else:
                raise SystemExit(f"{spec}: no source map and no pinned list of bundled packages")
            versions[name] = {"version": version, "integrity": expected, "bundled": bundled}
    (directory / VERSIONS).write_text(json.dumps(versions, indent=2) + "\n")
    sums = checksums(directory)
    (directory / CHECKSUMS).write_text("".join(f"{digest}  {name}\n" for name, digest in sums.items()))


if __name__ == "__main__":
    vendor(Path(sys.argv[1]) if len(sys.argv) > 1 else VENDOR_DIR)
