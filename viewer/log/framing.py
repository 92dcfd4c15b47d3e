"""The RRF2 framing of an `.rrd` stream, one definition for the reader and the writer.

A stream is a 12-byte header (``RRF2``, the 4 version bytes of the SDK that wrote it, the
compression byte, the serializer byte, 2 bytes of padding), then framed messages (u64 kind,
u64 body length, little-endian, then the protobuf body). An End message may be followed by
a stream footer: entries of (u64 start, u64 length, u32 xxHash32 of the End body), then
``RRF2FOOT`` and a u32 entry count. Several streams may follow each other in one file.
"""

from __future__ import annotations

import struct

MAGIC = b"RRF2"
FOOTER_MAGIC = b"RRF2FOOT"
STREAM_HEADER_SIZE = 12
#: (kind, body length) before every message body.
MESSAGE_HEADER = struct.Struct("<QQ")
MESSAGE_HEADER_SIZE = MESSAGE_HEADER.size  # 16
#: (start, length, xxHash32) of one End body, in the stream footer.
FOOTER_ENTRY = struct.Struct("<QQI")
FOOTER_ENTRY_SIZE = FOOTER_ENTRY.size  # 20
#: The u32 entry count after `FOOTER_MAGIC`.
FOOTER_COUNT = struct.Struct("<I")
SERIALIZER_PROTOBUF = 2  # the serializer byte of the stream header (1 was MsgPack, RRF1)
COMPRESSION_LZ4 = 1  # the compression byte of the stream header
