"""Stored secrets (passwords, client secrets) are argon2id hashes, never the secret itself."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a miss costs what a hit costs.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

# argon2 runs in its own small pool, not the event loop's default one: a flood of sign-ins
# then queues here, bounded to a few hashes at once, instead of taking every thread and core
# that the other requests of the worker need (set by create_app from MARKBOOK_HASHING_THREADS).
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")


def set_hashing_threads(threads: int) -> None:
    """How many secrets this process hashes or verifies at once; more wait their turn."""
    global _pool
    if _pool._max_workers != threads:
        old, _pool = _pool, ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        old.shutdown(wait=False)


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash new secrets with ``hasher``'s argon2 parameters from now on (secrets stored
    before keep theirs: each hash names its own). The defaults are argon2-cffi's, chosen for
    servers; a test suite that signs in thousands of times takes cheap ones."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_client_id() -> str:
    return "mbc_" + secrets.token_hex(12)


def new_client_secret() -> str:
    return "mbs_" + secrets.token_urlsafe(32)


async def hash_secret_async(secret: str) -> str:
    """argon2 is deliberately slow (tens of ms): run it off the event loop so that one sign-in
    does not stall every other request on the worker."""
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_secret, secret)


async def verify_secret_async(stored_hash: str | None, secret: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        _pool, verify_secret, stored_hash, secret
    )
