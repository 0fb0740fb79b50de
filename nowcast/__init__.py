"""carbonmap nowcast stage."""
