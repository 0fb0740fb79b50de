"""HTTP routers of the API, each built by a small titiler-style factory with injected dependencies."""
