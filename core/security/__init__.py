"""Passwords, tokens, secrets at rest, permissions and rate limits."""
