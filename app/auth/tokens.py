"""Short-lived JWT bearer tokens: HS256 only; issuer, audience, expiry, subject and the
holder's credentials version required. Opaque refresh tokens, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The bearer token is missing, malformed, forged, expired or not for this service."""


@dataclass(frozen=True, slots=True)
class TokenSubject:
    kind: str  # "user" or "client"
    id: uuid.UUID

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, value: str) -> TokenSubject:
        kind, _, raw_id = value.partition(":")
        if kind not in ("user", "client"):
            raise InvalidToken("unknown subject kind")
        try:
            return cls(kind, uuid.UUID(raw_id))
        except ValueError as exc:
            raise InvalidToken("malformed subject") from exc


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    subject: TokenSubject
    # The holder's credentials version when the token was issued: a password change, a secret
    # rotation, a grant change or disabling bumps it, and older tokens stop working. A counter,
    # not `iat`: a token issued in the same second as the change must not survive it.
    version: int


def new_refresh_token() -> str:
    return "mbr_" + secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    """Refresh tokens are 256 random bits: a plain SHA-256 is enough to store them safely
    (nothing to guess), and cheap enough to look one up by it."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    key: str
    issuer: str
    audience: str
    ttl: timedelta
    refresh_ttl: timedelta = timedelta(days=30)

    def issue(self, subject: TokenSubject, *, scope: str = "", version: int = 0) -> tuple[str, int]:
        """A bearer token for ``subject``; ``version`` is the holder's credentials version now."""
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(subject),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
            "ver": version,
        }
        if scope:
            claims["scope"] = scope
        return jwt.encode(claims, self.key, algorithm=ALGORITHM), int(self.ttl.total_seconds())

    def verify(self, token: str) -> VerifiedToken:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "ver"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("the token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("the token is from another issuer") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("the token is not valid") from exc
        version = claims["ver"]
        if type(version) is not int:
            raise InvalidToken("the token is not valid")
        return VerifiedToken(TokenSubject.parse(str(claims["sub"])), version)
