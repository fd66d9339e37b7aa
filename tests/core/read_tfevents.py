#!/usr/bin/env python3
"""An independent reader of TensorBoard event files (standard library only): checks the TFRecord
framing and both masked CRC-32C values of every record, decodes the Event / Summary protobuf wire
format, and prints one line per scalar: `step tag value`. Exits non-zero on any corruption."""
import struct
import sys


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def fields(buf: bytes):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield field, wire, value


def varint(buf: bytes, i: int):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def main(path: str) -> None:
    data = open(path, "rb").read()
    pos, records, version = 0, 0, None
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        assert hcrc == masked(header), f"bad length CRC at byte {pos}"
        payload = data[pos + 12:pos + 12 + length]
        (pcrc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        assert pcrc == masked(payload), f"bad payload CRC at byte {pos}"
        pos += 16 + length
        records += 1
        step = 0
        for field, wire, value in fields(payload):
            if field == 2:
                step = value
            elif field == 3:
                version = value.decode()
            elif field == 5:
                for _, _, v in fields(value):
                    tag, number = None, None
                    for f, w, x in fields(v):
                        if f == 1:
                            tag = x.decode()
                        elif f == 2 and w == 5:
                            (number,) = struct.unpack("<f", x)
                    print(step, tag, number)
    assert version == "brain.Event:2", f"file_version is {version}"
    print(f"records {records}")


if __name__ == "__main__":
    main(sys.argv[1])
