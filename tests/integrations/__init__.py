"""Vendor client tests: real recorded payloads, the sandbox, and (marked live) real accounts."""
