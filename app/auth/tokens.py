"""Short-lived JWT bearer tokens: HS256 only; issuer, audience, expiry and subject required."""

from __future__ import annotations

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
class TokenIssuer:
    key: str
    issuer: str
    audience: str
    ttl: timedelta

    def issue(self, subject: TokenSubject, *, scope: str = "") -> tuple[str, int]:
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(subject),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        if scope:
            claims["scope"] = scope
        return jwt.encode(claims, self.key, algorithm=ALGORITHM), int(self.ttl.total_seconds())

    def verify(self, token: str) -> TokenSubject:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
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
        return TokenSubject.parse(str(claims["sub"]))
