"""carbonmap: a daily, global, gridded map of fossil CO2 emissions by sector."""

__version__ = "0.1.0"
