"""carbonmap tiles stage."""
