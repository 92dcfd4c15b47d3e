"""Names and settings of the live protocol shared by the receiver and our sender.

Kept apart from `server` so the sender needs neither Qt nor the ingest layer.
"""

from __future__ import annotations

__all__ = [
    "CHANNEL_OPTIONS",
    "DEFAULT_ADDRESS",
    "DEFAULT_BIND",
    "DEFAULT_PORT",
    "SERVICE_NAME",
    "WRITE_MESSAGES",
    "WRITE_MESSAGES_METHOD",
    "format_address",
    "identity",
]

SERVICE_NAME = "rerun.sdk_comms.v1alpha1.MessageProxyService"
WRITE_MESSAGES = "WriteMessages"
WRITE_MESSAGES_METHOD = f"/{SERVICE_NAME}/{WRITE_MESSAGES}"
#: Where rerun-sdk's ``rr.connect_grpc()`` sends by default, and so where the viewer listens.
DEFAULT_PORT = 9876
DEFAULT_BIND = "127.0.0.1"
DEFAULT_ADDRESS = f"{DEFAULT_BIND}:{DEFAULT_PORT}"

# The default 4 MiB limit kills a stream on its first large chunk, and the SDK never
# reconnects: no limit on either side.
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
]


def format_address(host: str, port: int) -> str:
    """``host:port``, with IPv6 hosts in brackets as gRPC targets need them."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def identity(data: bytes) -> bytes:
    """The raw-bytes (de)serializer: protobuf is decoded by `viewer.log.protobuf` instead."""
    return data
