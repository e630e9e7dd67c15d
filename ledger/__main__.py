"""`python -m ledger` runs the CLI."""

from ledger.cli import main

if __name__ == "__main__":
    main()
