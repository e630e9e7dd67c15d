"""Pure read-side folds over a deal's events: clocks, current state, timelines, diffs.

Everything here is a function of a list of events given in record order; nothing
touches a database. Imports `events` only, never `ledger`.
"""
