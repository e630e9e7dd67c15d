"""The write side of deal-ledger: the deal aggregate, the application, storage and the CLI."""

__version__ = "0.1.0"
