"""Twilio Voice channel: the phone attendant's webhooks and TwiML."""
