"""gRPC layer: servicers, message conversions, the status mapping and the server wiring."""
