"""Live streams: the gRPC receiver for ``rr.connect_grpc()`` and a sender of our own."""

import os

# gRPC's C core prints its own log lines to stderr (a busy port gave a raw "add_port.cc"
# line before our clear message). It reads this variable when it starts, so it is set
# before any module of this package imports grpc; a user's own setting wins. Every problem
# the core reports reaches the user through our messages instead.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")
