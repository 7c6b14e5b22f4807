"""LINE Messaging API channel: verifies webhooks, translates events, renders replies."""
