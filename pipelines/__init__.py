"""carbonmap pipelines stage."""
