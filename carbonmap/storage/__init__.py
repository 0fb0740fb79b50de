"""carbonmap's store formats, read side and shared primitives: the one package both sides import (issue #18).

The pipelines write through it (``pipelines/store.py``, ``pyramid.py``, ``timeseries.py``, ``release_files.py``
build on these modules); the tile server, the API and the registry read through it and never import a writer.

- :mod:`carbonmap.storage.remote` — object-storage primitives (``s3://bucket/prefix``: obstore, zarr's ObjectStore);
- :mod:`carbonmap.storage.shards` — whole-shard writes and box reads of local Zarr v3 sharded arrays;
- :mod:`carbonmap.storage.cube` — the cube store: releases, the release pointer, manifests, opening a release;
- :mod:`carbonmap.storage.pyramid` — the map pyramid's layout and its reader;
- :mod:`carbonmap.storage.timeseries` — the time-series layout's names and its reader;
- :mod:`carbonmap.storage.releases` — a store's release history and diffs (read only).
"""
