"""Tierwise cost tables."""
