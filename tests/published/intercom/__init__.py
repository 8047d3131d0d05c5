"""Intercom's published API examples, reduced (see `reference.py`)."""
