"""Sign-in throttling: how many attempts an account and a client address may make.

Two limits, each a moving window (the `limits` library's async strategy: every attempt is kept
with its time, so there is no burst at a window's edge as with fixed windows, and Retry-After is
exactly when the oldest counted attempt leaves the window):

- per account, only *failed* attempts count (a wrong password, an unknown email, a disabled
  account; for integrations a wrong client secret), keyed by the email or client id as typed,
  lower-cased, whether or not it exists, so a locked account looks like any other;
- per client address, every token request counts, right or wrong.

Both are checked before any password is hashed, so a refused attempt costs no argon2 work. The
counts live in memory (one worker) or in a shared store such as Redis (several workers).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.errors import ServiceUnavailable, TooManyRequests

log = logging.getLogger("markbook.auth")

# Same words for every account, real or not, so the answer reveals nothing.
LOCKED = "too many failed sign-ins for this account; try again later"
FLOODED = "too many sign-in attempts from this address; try again later"


@dataclass(frozen=True, slots=True)
class SignInThrottle:
    storage: Storage
    per_account: RateLimitItem
    per_address: RateLimitItem

    @classmethod
    def from_settings(
        cls, *, storage_url: str, key_prefix: str, per_account: str, per_address: str
    ) -> SignInThrottle:
        storage = storage_from_string(storage_url)
        if not isinstance(storage, Storage):
            raise ValueError(f"{storage_url!r} is not an async storage (async+memory://, ...)")
        account, address = parse(per_account), parse(per_address)
        return cls(
            storage=storage,
            per_account=type(account)(
                account.amount, account.multiples, namespace=f"{key_prefix}:sign-in:account"
            ),
            per_address=type(address)(
                address.amount, address.multiples, namespace=f"{key_prefix}:sign-in:address"
            ),
        )

    @property
    def _limiter(self) -> MovingWindowRateLimiter:
        return MovingWindowRateLimiter(self.storage)

    async def admit(self, *, kind: str, account: str | None, address: str | None) -> None:
        """Refuse (429) an attempt on a locked ``account`` or from a flooding ``address``;
        otherwise count it against the address. ``kind`` is "user" or "client"."""
        try:
            if account and not await self._limiter.test(self.per_account, kind, _key(account)):
                raise TooManyRequests(
                    LOCKED, retry_after=await self._wait(self.per_account, kind, _key(account))
                )
            if address and not await self._limiter.hit(self.per_address, address):
                raise TooManyRequests(
                    FLOODED, retry_after=await self._wait(self.per_address, address)
                )
        except TooManyRequests:
            raise
        except Exception as exc:
            raise _unavailable(exc) from exc

    async def failed(self, *, kind: str, account: str) -> None:
        """Count a failed attempt against ``account``."""
        try:
            await self._limiter.hit(self.per_account, kind, _key(account))
        except Exception as exc:
            raise _unavailable(exc) from exc

    async def _wait(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _key(account: str) -> str:
    # Hashed: the shared store need not hold people's email addresses.
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]


def _unavailable(exc: Exception) -> ServiceUnavailable:
    # Fail closed: without its counts the throttle cannot tell a flood from a sign-in.
    log.warning("sign-in throttle store unavailable: %s", type(exc).__name__)
    return ServiceUnavailable("sign-in is unavailable just now; retry shortly")
