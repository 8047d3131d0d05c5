"""Reduced copies of payloads the vendors publish (specs, fixtures, generated client tests).

Each module names its source (repository @ commit, path) at the top. Only the parts a test
needs are kept; the recorded payloads of `../shared/fixtures` are read from there, never copied.
"""
