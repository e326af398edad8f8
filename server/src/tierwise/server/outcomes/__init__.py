"""Outcome reporting: what happened after each decision, kept in a store replay can read."""
