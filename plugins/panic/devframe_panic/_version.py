"""The version of devframe-panic (its one source: pyproject.toml reads it)."""

__version__ = "0.1.0"
