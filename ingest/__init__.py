"""carbonmap ingest stage."""
