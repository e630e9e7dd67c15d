"""What the write side refuses, as a small hierarchy the CLI maps to exit codes."""


class LedgerError(Exception):
    """Something the ledger refused or could not do; the message is one line."""


class DomainError(LedgerError):
    """A report that breaks a rule of the ledger (exit code 1)."""


class DealNotFoundError(DomainError):
    """No report has been recorded for the deal."""


class EventNotFoundError(DomainError):
    """No event has the given id."""


class UnreadableInput(LedgerError):
    """Input that is not in the form asked for, e.g. a malformed event id (exit code 2)."""


class StorageError(LedgerError):
    """The database cannot be opened, read or written."""
