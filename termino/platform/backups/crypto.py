"""Encryption of stored business exports: AES-256-GCM in chunks, so files of any size stream.

File layout: MAGIC (16 bytes) | key id (8) | nonce prefix (8), then chunks, each a 4-byte big-endian length
and AES-GCM's output for up to 1 MiB of the ZIP. Chunk i is sealed with the nonce `prefix ‖ i` and, as
associated data, the header, i and whether it is the last chunk; so chunks can be neither reordered, nor
dropped, nor cut off at the end without the decryption failing (the usual STREAM construction).

Keys: BACKUP_ENCRYPTION_KEYS, URL-safe base64 of 32 random bytes each, comma-separated; the first encrypts,
all decrypt (rotation: put the new key first, keep the old ones until the last file they wrote has expired).
Without that setting the key is derived from SECRET_KEY (HKDF-SHA256), which is fine for development; in
production set a key of its own, so that rotating SECRET_KEY does not make the stored exports unreadable.
"""

import base64
import hashlib
import os
import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"TERMINO-EXPORT\x00\x01"
CHUNK = 1 << 20
HEADER = len(MAGIC) + 8 + 8


class DecryptionError(Exception):
    """The file is not ours, was changed or cut off, or its key is not configured any more."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:8]


def keys() -> list[bytes]:
    configured = [k.strip() for k in (getattr(settings, "BACKUP_ENCRYPTION_KEYS", "") or "").split(",")]
    result = []
    for text in filter(None, configured):
        try:
            key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError as exc:
            raise ImproperlyConfigured("BACKUP_ENCRYPTION_KEYS holds a key that is not base64") from exc
        if len(key) != 32:
            raise ImproperlyConfigured("each key of BACKUP_ENCRYPTION_KEYS must be 32 bytes (base64)")
        result.append(key)
    if not result:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"termino business exports")
        result.append(derived.derive(settings.SECRET_KEY.encode()))
    return result


def new_key() -> str:
    """A key for BACKUP_ENCRYPTION_KEYS."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">I?", index, last)


def encrypt_file(source, target) -> str:
    """Encrypt the file `source` into the file `target` (mode 0600) with the first key. Returns its key id."""
    key = keys()[0]
    ident = key_id(key)
    header = MAGIC + ident + secrets.token_bytes(8)
    cipher = AESGCM(key)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(source, "rb") as plain, os.fdopen(fd, "wb") as out:
        out.write(header)
        index, chunk = 0, plain.read(CHUNK)
        while True:
            following = plain.read(CHUNK)
            last = not following
            sealed = cipher.encrypt(header[-8:] + struct.pack(">I", index), chunk, _aad(header, index, last))
            out.write(struct.pack(">I", len(sealed)) + sealed)
            if last:
                break
            index, chunk = index + 1, following
    return ident.hex()


def decrypt_file(source, out) -> str:
    """Decrypt the file `source` into the open binary file `out`. Returns the SHA-256 of the plaintext.
    Raises DecryptionError; `out` then holds a partial plaintext the caller must discard."""
    digest = hashlib.sha256()
    with open(source, "rb") as sealed_file:
        header = sealed_file.read(HEADER)
        if len(header) != HEADER or not header.startswith(MAGIC):
            raise DecryptionError("not an encrypted Termino export")
        wanted = header[len(MAGIC) : len(MAGIC) + 8]
        key = next((k for k in keys() if key_id(k) == wanted), None)
        if key is None:
            raise DecryptionError(
                f"encrypted with key {wanted.hex()}, which is not in BACKUP_ENCRYPTION_KEYS"
            )
        cipher = AESGCM(key)

        def read_chunk():
            size = sealed_file.read(4)
            if not size:
                return None
            if len(size) != 4:
                raise DecryptionError("the file is cut off")
            (length,) = struct.unpack(">I", size)
            if length > CHUNK + 16:
                raise DecryptionError("the file is damaged")
            data = sealed_file.read(length)
            if len(data) != length:
                raise DecryptionError("the file is cut off")
            return data

        index, current = 0, read_chunk()
        if current is None:
            raise DecryptionError("the file is cut off")
        while current is not None:
            following = read_chunk()
            nonce = header[-8:] + struct.pack(">I", index)
            try:
                plain = cipher.decrypt(nonce, current, _aad(header, index, following is None))
            except InvalidTag as exc:
                raise DecryptionError("the file was changed, cut off or damaged") from exc
            digest.update(plain)
            out.write(plain)
            index, current = index + 1, following
    return digest.hexdigest()
