"""Live streams: the gRPC receiver for ``rr.connect_grpc()`` and a sender of our own."""
