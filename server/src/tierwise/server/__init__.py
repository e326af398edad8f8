"""Tierwise gRPC service: routing decisions and cost quotes."""
