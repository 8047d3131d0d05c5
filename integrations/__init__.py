"""Vendor clients. No LLM knowledge lives here: each client speaks one vendor's API."""
