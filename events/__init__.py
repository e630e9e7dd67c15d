"""The vocabulary of deal-ledger: immutable events, value objects and figure parsing.

Imports nothing from `ledger` or `projections`.
"""
