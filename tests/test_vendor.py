"""The vendored htmx files are the ones their SHA256SUMS name, and the pages use them."""

from __future__ import annotations

import hashlib

from visualizer.locations import STATIC_DIR, TEMPLATES_DIR

VENDOR = STATIC_DIR / "vendor"


def test_every_vendored_file_matches_its_checksum() -> None:
    lines = (VENDOR / "SHA256SUMS").read_text().split("\n")
    sums = dict(reversed(line.split()) for line in lines if line.strip())
    assert set(sums) == {"htmx-4.0.1.min.js", "hx-ws-4.0.1.min.js"}
    assert {p.name for p in VENDOR.iterdir()} == {*sums, "SHA256SUMS"}
    for name, expected in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == expected, name


def test_pages_load_htmx_from_our_own_static_folder() -> None:
    base = (TEMPLATES_DIR / "base.html").read_text()
    assert "/static/vendor/htmx-4.0.1.min.js" in base
    assert "/static/vendor/hx-ws-4.0.1.min.js" in base
    assert "://" not in base.replace("http-equiv", "")  # no CDN
