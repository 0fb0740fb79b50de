"""GET /healthz."""

from __future__ import annotations

from carbonmap import __version__


def test_healthz_lists_served_datasets_and_version(client, registry):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": __version__, "datasets": sorted(registry.ids())}
