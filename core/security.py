"""Password hashing (argon2id) and generation."""

from __future__ import annotations

import ctypes
import platform
import secrets
import string
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane. About
# a fifth of the CPU of argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes), so creating a
# customer costs a request a few milliseconds, not a hundred. Hashes made with other costs
# still verify: each hash carries its own parameters.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
# Hashes (and checks) one process runs at once, each in one of these threads. Each holds 19 MiB
# while it runs and argon2 does not hold the GIL: on every listener thread a burst of creations
# would take a core each, and leave 19 MiB in each thread's malloc arena once done.
AT_ONCE = 2
_argon2 = ThreadPoolExecutor(AT_ONCE, thread_name_prefix="argon2")
# glibc serves a freed block's size from its heap next time (its mmap threshold follows the
# largest block freed), and a thread's heap keeps it: each hashing thread held 19 MiB once done.
# Blocks this large are mapped for themselves and handed back to the system when freed.
MMAP_FROM_BYTES = 8 * 1024 * 1024
_M_MMAP_THRESHOLD = -3


def _map_large_blocks() -> None:
    if platform.libc_ver()[0] != "glibc":
        return
    # The process's own symbols, glibc's among them: find_library would run ldconfig (2 ms
    # of every start-up) to name the library already loaded.
    ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_FROM_BYTES)


_map_large_blocks()

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)

SPECIALS = "!@#$%^&*()-_=+[]{};:,.?/~"


def configure_hasher(*, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
    """Swap the argon2id cost parameters (tests use cheap ones; production keeps OWASP's)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, salted (made in one of AT_ONCE threads)."""
    return _argon2.submit(_hasher.hash, password).result()


class HashedPassword(NamedTuple):
    """A password and its hash, made before a unit of work opens so no lock waits on argon2."""

    plain: str
    hash: str


def hashed(password: str) -> HashedPassword:
    """`password` with its argon2id hash."""
    return HashedPassword(password, hash_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash (checked in one of AT_ONCE threads)."""
    try:
        return _argon2.submit(_hasher.verify, password_hash, password).result()
    except (VerificationError, InvalidHashError):
        return False


def generate_password(length: int = 16) -> str:
    """A random password that satisfies every rule of `validate_password`."""
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits, SPECIALS]
    chars = [secrets.choice(pool) for pool in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
