"""The routing domain: inputs, policy, decisions and their cache (no gRPC here)."""
