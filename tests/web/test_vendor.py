"""The vendored chart libraries are the ones the installed Altair targets, unmodified."""

from __future__ import annotations

import json
import re

import altair as alt
from altair.vegalite.v6 import display

from server.web.vendor import CHECKSUMS, PACKAGES, VENDOR_DIR, VERSIONS, checksums, license_path, read_checksum_list


def _vendored() -> dict[str, str]:
    return {name: entry["version"] for name, entry in json.loads((VENDOR_DIR / VERSIONS).read_text()).items()}


def test_the_vendored_vega_lite_is_the_version_altair_writes_specs_for() -> None:
    assert _vendored()["vega-lite"] == alt.SCHEMA_VERSION.lstrip("v")


def test_vega_and_vega_embed_have_the_majors_altair_loads() -> None:
    vendored = _vendored()
    assert vendored["vega"].split(".")[0] == display.VEGA_VERSION
    assert vendored["vega-embed"].split(".")[0] == display.VEGAEMBED_VERSION


def test_the_version_list_matches_the_pins_and_the_files_themselves() -> None:
    assert _vendored() == {name: version for name, (version, _) in PACKAGES.items()}
    assert f'version="{_vendored()["vega"]}"' in (VENDOR_DIR / "vega.min.js").read_text()
    assert re.search(
        rf'"use strict";var \w+="{re.escape(_vendored()["vega-lite"])}"', (VENDOR_DIR / "vega-lite.min.js").read_text()
    )


def test_the_checksum_list_matches_the_vendored_files() -> None:
    assert read_checksum_list() == checksums()
    for name, (_, files) in PACKAGES.items():
        assert set(files) | {f"{name}.LICENSE"} <= set(checksums())
    assert CHECKSUMS not in checksums()


def test_every_bundled_package_has_its_licence_listed_and_checksummed() -> None:
    listed = read_checksum_list()
    for name, entry in json.loads((VENDOR_DIR / VERSIONS).read_text()).items():
        assert bool(entry["bundled"]) == (name != "vega-lite"), name  # vega-lite's build bundles nothing third-party
        for package, bundled in entry["bundled"].items():
            licence = bundled["license"]
            assert licence == license_path(package)
            assert (VENDOR_DIR / licence).read_text().strip(), licence
            assert licence in listed
            assert bundled["version"] and bundled["integrity"].startswith("sha512-") and bundled["resolved"]
    assert listed == checksums()
