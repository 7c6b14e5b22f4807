"""The ledger, booking engine, conversation engine, API and CLI of uketsuke."""
