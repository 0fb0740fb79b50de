"""carbonmap api stage."""
