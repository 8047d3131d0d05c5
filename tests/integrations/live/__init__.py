"""Tests against real vendor accounts (marked live), and the shared cassette filters."""
