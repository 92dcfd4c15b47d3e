"""The wire: message types, the protobuf walk, the `.rrd` reader and writer. No Qt."""
