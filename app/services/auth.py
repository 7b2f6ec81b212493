"""Signing in: OAuth2 grants that turn credentials into tokens, and tokens into principals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.me import GrantView, Me
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Grant, Principal
from app.auth.secrets import verify_secret_async
from app.auth.throttle import SignInThrottle
from app.auth.tokens import (
    InvalidToken,
    TokenIssuer,
    TokenSubject,
    VerifiedToken,
    new_refresh_token,
    refresh_token_hash,
)
from app.db.engine import begin_writing, retry_lost_connection
from app.db.people import RefreshToken, User
from app.db.queries import people, refresh_tokens, roster
from app.domain.roles import ClientScope, Role
from app.errors import OAuthError, Unauthorized

STALE = (
    "this token was issued before its holder's password or secret, roles or scopes, or status "
    "changed; sign in again"
)


@dataclass(frozen=True, slots=True)
class Tokens:
    """What a token request answers: a bearer token, and for people a refresh token."""

    access_token: str
    expires_in: int
    scope: str = ""
    refresh_token: str | None = None


class RefreshTokenReused(OAuthError):
    """A refresh token already used (or signed out) was presented again: whoever holds its
    family's current token may have copied it, so the whole family has been revoked. That
    revocation must be kept although the request is refused."""

    def __init__(self) -> None:
        super().__init__("invalid_grant", "the refresh token is not valid")


async def password_grant(
    session: AsyncSession,
    issuer: TokenIssuer,
    throttle: SignInThrottle,
    *,
    username: str,
    password: str,
    address: str | None,
) -> Tokens:
    """A person signs in with email and password (RFC 6749 section 4.3), and gets a refresh
    token too. Too many failures for the email as typed, or too many attempts from one address,
    are refused (429) before the password is checked at all."""
    await throttle.admit(kind="user", account=username, address=address)
    user = await people.get_user_by_email(session, username)
    matches = await verify_secret_async(user.password_hash if user else None, password)
    if user is None or not matches:
        await throttle.failed(kind="user", account=username)
        raise OAuthError("invalid_grant", "email or password is wrong")
    if not user.is_active:
        await throttle.failed(kind="user", account=username)
        raise OAuthError("invalid_grant", "this account is disabled")
    await begin_writing(session)
    now = datetime.now(UTC)
    await refresh_tokens.forget_expired(session, user.id, now)
    refresh = _new_refresh(session, issuer, user, family_id=uuid.uuid4(), now=now)
    token, expires_in = issuer.issue(
        TokenSubject("user", user.id), version=user.credentials_version
    )
    await session.flush()
    return Tokens(token, expires_in, "", refresh)


def _new_refresh(
    session: AsyncSession, issuer: TokenIssuer, user: User, *, family_id: uuid.UUID, now: datetime
) -> str:
    token = new_refresh_token()
    session.add(
        RefreshToken(
            family_id=family_id,
            user_id=user.id,
            token_hash=refresh_token_hash(token),
            credentials_version=user.credentials_version,
            created_at=now,
            expires_at=now + issuer.refresh_ttl,
        )
    )
    return token


async def refresh_grant(
    session: AsyncSession,
    issuer: TokenIssuer,
    throttle: SignInThrottle,
    *,
    refresh_token: str,
    address: str | None,
) -> Tokens:
    """A new bearer token for a refresh token (RFC 6749 section 6), and a new refresh token in
    place of the one used, which is revoked. A refresh token stops working when it expires
    unused, when its holder signs out, and when the person's password, roles or status change
    (their credentials version moves on); one presented again after use revokes its family."""
    await throttle.admit(kind="user", account=None, address=address)
    await begin_writing(session)
    now = datetime.now(UTC)
    stored = await refresh_tokens.by_hash(session, refresh_token_hash(refresh_token))
    if stored is None or stored.expires_at <= now:
        raise OAuthError("invalid_grant", "the refresh token is not valid")
    if stored.revoked_at is not None or not await refresh_tokens.take(session, stored.id, now):
        await refresh_tokens.revoke_family(session, stored.family_id, now)
        raise RefreshTokenReused()
    user = await people.get_user(session, stored.user_id)
    if user is None or not user.is_active or user.credentials_version != stored.credentials_version:
        raise OAuthError("invalid_grant", "the refresh token is not valid")
    refresh = _new_refresh(session, issuer, user, family_id=stored.family_id, now=now)
    token, expires_in = issuer.issue(
        TokenSubject("user", user.id), version=user.credentials_version
    )
    await session.flush()
    return Tokens(token, expires_in, "", refresh)


async def revoke(session: AsyncSession, *, token: str) -> None:
    """Sign out (RFC 7009): the refresh token and every token of its family stop working. An
    unknown, expired or already revoked token is no error, and bearer tokens are left to expire
    (they live minutes)."""
    stored = await refresh_tokens.by_hash(session, refresh_token_hash(token))
    if stored is not None:
        await refresh_tokens.revoke_family(session, stored.family_id, datetime.now(UTC))


async def client_credentials_grant(
    session: AsyncSession,
    issuer: TokenIssuer,
    throttle: SignInThrottle,
    *,
    client_id: str,
    client_secret: str,
    address: str | None,
) -> Tokens:
    """An integration signs in with its client id and secret (RFC 6749 section 4.4); throttled
    like people, by client id."""
    await throttle.admit(kind="client", account=client_id, address=address)
    client = await people.get_client_by_client_id(session, client_id)
    matches = await verify_secret_async(client.secret_hash if client else None, client_secret)
    if client is None or not matches:
        await throttle.failed(kind="client", account=client_id)
        raise OAuthError("invalid_client", "client authentication failed", status=401)
    if not client.is_active:
        await throttle.failed(kind="client", account=client_id)
        raise OAuthError("invalid_client", "this client is disabled", status=401)
    scope = " ".join(sorted(client.scopes))
    token, expires_in = issuer.issue(
        TokenSubject("client", client.id), scope=scope, version=client.credentials_version
    )
    return Tokens(token, expires_in, scope)


async def principal_from_token(session: AsyncSession, issuer: TokenIssuer, token: str) -> Principal:
    """Verify a bearer token and load, fresh from the database, what its holder may do now.

    Grants and scopes are not trusted from the token: a revoked grant or disabled account
    takes effect on the next request. A token issued before its holder's password, secret,
    grants, scopes or status last changed is refused.
    """
    try:
        verified = issuer.verify(token)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    if verified.subject.kind == "user":
        return await _user_principal(session, verified)
    return await _client_principal(session, verified)


async def _user_principal(session: AsyncSession, verified: VerifiedToken) -> Principal:
    rows = await retry_lost_connection(
        session, lambda: people.user_as_caller(session, verified.subject.id)
    )
    if not rows or not rows[0].is_active:
        raise Unauthorized("the account behind this token is no longer active")
    if rows[0].credentials_version != verified.version:
        raise Unauthorized(STALE)
    return _as_principal(verified.subject.id, rows)


async def user_principal(session: AsyncSession, user: User) -> Principal:
    """Whom an active user acts as: their grants, and the schools and trusts those reach."""
    return _as_principal(user.id, await people.user_as_caller(session, user.id))


def _as_principal(user_id: uuid.UUID, rows: list[Any]) -> Principal:
    grants: dict[uuid.UUID, Grant] = {}
    reached = _Reached()
    for row in rows:
        if row.grant_id is None:
            continue
        grants.setdefault(
            row.grant_id, Grant(Role(row.role), row.trust_id, row.school_id, row.pupil_id)
        )
        reached.add(row)
    first = rows[0]
    return Principal(
        kind="user",
        id=user_id,
        name=first.display_name,
        email=first.email,
        grants=tuple(grants.values()),
        schools_of_trust=reached.schools_of_trust(),
        trust_of_school=reached.trust_of_school,
    )


async def _client_principal(session: AsyncSession, verified: VerifiedToken) -> Principal:
    rows = await retry_lost_connection(
        session, lambda: people.client_as_caller(session, verified.subject.id)
    )
    if not rows or not rows[0].is_active:
        raise Unauthorized("the client behind this token is no longer active")
    first = rows[0]
    if first.credentials_version != verified.version:
        raise Unauthorized(STALE)
    reached = _Reached()
    for row in rows:
        reached.add(row)
    return Principal(
        kind="client",
        id=verified.subject.id,
        name=first.name,
        scopes=frozenset(ClientScope(s) for s in first.scopes),
        client_trust_id=first.trust_id,
        client_school_id=first.school_id,
        schools_of_trust=reached.schools_of_trust(),
        trust_of_school=reached.trust_of_school,
    )


class _Reached:
    """The schools of each trust, and the trust of each school, that a caller's grants (or a
    client's scope) name, gathered from the rows of people.user_as_caller/client_as_caller."""

    def __init__(self) -> None:
        self._schools: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.trust_of_school: dict[uuid.UUID, uuid.UUID | None] = {}

    def add(self, row: Any) -> None:
        if row.trust_id is not None:
            schools = self._schools.setdefault(row.trust_id, set())
            if row.trust_school_id is not None:
                schools.add(row.trust_school_id)
        if row.school_id is not None:
            self.trust_of_school[row.school_id] = row.school_trust_id

    def schools_of_trust(self) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
        return {trust_id: frozenset(ids) for trust_id, ids in self._schools.items()}


async def describe(session: AsyncSession, principal: Principal) -> Me:
    """Who the caller is, their roles and scopes, and the trusts and schools they can see. A
    pupil or parent grant names its pupil (id and name), so a frontend can open the record."""
    schools = reach(principal, Resource.SCHOOL, Action.READ)
    trusts = reach(principal, Resource.TRUST, Action.READ)
    pupil_ids = {g.pupil_id for g in principal.grants if g.pupil_id is not None}
    # Named if the caller may open the pupil's record: as a pupil, their judgements or values.
    record_reaches = [
        reach(principal, resource, Action.READ)
        for resource in (Resource.PUPIL, Resource.JUDGEMENT, Resource.VALUE)
    ]
    names = await roster.pupil_names(session, record_reaches, pupil_ids)
    return Me(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        email=principal.email,
        roles=[
            GrantView(
                role=g.role,
                trust_id=g.trust_id,
                school_id=g.school_id,
                pupil_id=g.pupil_id,
                pupil_name=names.get(g.pupil_id) if g.pupil_id else None,
            )
            for g in principal.grants
        ],
        scopes=sorted(principal.scopes),
        trust_ids=sorted(trusts.trust_ids, key=str),
        school_ids=sorted(schools.school_ids, key=str),
        everything=schools.everything,
    )
