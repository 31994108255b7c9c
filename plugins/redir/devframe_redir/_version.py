"""The version of devframe-redir (its one source: pyproject.toml reads it)."""

__version__ = "0.1.0"
