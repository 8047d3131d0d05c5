"""Twilio Programmable Messaging: SMS out through the official SDK, webhooks in (signed by Twilio)."""
