"""Due-work rules and the outbox worker that delivers LINE, SMS and email."""
