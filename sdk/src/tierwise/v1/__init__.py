"""Generated protobuf and gRPC code for the tierwise.v1 wire contract."""
