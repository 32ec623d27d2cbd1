"""Reading a request body with hard limits, gzip included, without trusting the client.

The body is read in chunks and refused (413) as soon as it passes the limit, both as
sent and after decompression, so a gzip bomb costs at most the limit in memory.
"""

from __future__ import annotations

import zlib

from starlette.requests import Request

from api.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType


async def read_json_body(request: Request, *, max_bytes: int, max_decompressed: int) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported; use gzip.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")

    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    received = 0
    out = bytearray()
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")
        if inflater is None:
            out += chunk
            continue
        try:
            # Never inflate more than one byte past the limit, whatever the chunk holds.
            out += inflater.decompress(chunk, max_decompressed - len(out) + 1)
            while inflater.unconsumed_tail and len(out) <= max_decompressed:
                out += inflater.decompress(
                    inflater.unconsumed_tail, max_decompressed - len(out) + 1
                )
        except zlib.error as exc:
            raise BadRequest(f"The gzip body is corrupt: {exc}") from exc
        if len(out) > max_decompressed:
            raise PayloadTooLarge(f"The body inflates to more than {max_decompressed} bytes.")
    if inflater is not None:
        try:
            out += inflater.flush()
        except zlib.error as exc:
            raise BadRequest(f"The gzip body is corrupt: {exc}") from exc
        if not inflater.eof:
            raise BadRequest("The gzip body is truncated.")
        if inflater.unused_data:
            raise BadRequest("Data follows the end of the gzip stream; send one gzip member.")
        if len(out) > max_decompressed:
            raise PayloadTooLarge(f"The body inflates to more than {max_decompressed} bytes.")
    elif len(out) > max_decompressed:
        raise PayloadTooLarge(f"The body is larger than {max_decompressed} bytes.")
    return bytes(out)
