"""Runs conversations against the ledger: loads facts, steps the pure tables in
backend.conversation, performs their effects, keeps the state, queues the replies."""
