"""Signing in: OAuth2 grants that turn credentials into tokens, and tokens into principals."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.me import GrantView, Me
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Grant, Principal
from app.auth.secrets import verify_secret_async
from app.auth.tokens import InvalidToken, TokenIssuer, TokenSubject
from app.db.queries import people, roster, tenancy
from app.domain.roles import ClientScope, Role
from app.errors import OAuthError, Unauthorized


async def password_grant(
    session: AsyncSession, issuer: TokenIssuer, *, username: str, password: str
) -> tuple[str, int, str]:
    """A person signs in with email and password (RFC 6749 section 4.3)."""
    user = await people.get_user_by_email(session, username)
    matches = await verify_secret_async(user.password_hash if user else None, password)
    if user is None or not matches:
        raise OAuthError("invalid_grant", "email or password is wrong")
    if not user.is_active:
        raise OAuthError("invalid_grant", "this account is disabled")
    token, expires_in = issuer.issue(TokenSubject("user", user.id))
    return token, expires_in, ""


async def client_credentials_grant(
    session: AsyncSession, issuer: TokenIssuer, *, client_id: str, client_secret: str
) -> tuple[str, int, str]:
    """An integration signs in with its client id and secret (RFC 6749 section 4.4)."""
    client = await people.get_client_by_client_id(session, client_id)
    matches = await verify_secret_async(client.secret_hash if client else None, client_secret)
    if client is None or not matches:
        raise OAuthError("invalid_client", "client authentication failed", status=401)
    if not client.is_active:
        raise OAuthError("invalid_client", "this client is disabled", status=401)
    scope = " ".join(sorted(client.scopes))
    token, expires_in = issuer.issue(TokenSubject("client", client.id), scope=scope)
    return token, expires_in, scope


async def principal_from_token(session: AsyncSession, issuer: TokenIssuer, token: str) -> Principal:
    """Verify a bearer token and load, fresh from the database, what its holder may do now.

    Grants and scopes are not trusted from the token: a revoked grant or disabled account
    takes effect on the next request.
    """
    try:
        subject = issuer.verify(token)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    if subject.kind == "user":
        return await _user_principal(session, subject)
    return await _client_principal(session, subject)


async def _user_principal(session: AsyncSession, subject: TokenSubject) -> Principal:
    user = await people.get_user(session, subject.id)
    if user is None or not user.is_active:
        raise Unauthorized("the account behind this token is no longer active")
    rows = (await people.grants_of(session, [user.id])).get(user.id, [])
    grants = tuple(Grant(Role(g.role), g.trust_id, g.school_id, g.pupil_id) for g in rows)
    return Principal(
        kind="user",
        id=user.id,
        name=user.display_name,
        email=user.email,
        grants=grants,
        schools_of_trust=await tenancy.school_ids_of_trusts(
            session, {g.trust_id for g in grants if g.trust_id}
        ),
        trust_of_school=await tenancy.trusts_of_schools(
            session, {g.school_id for g in grants if g.school_id}
        ),
    )


async def _client_principal(session: AsyncSession, subject: TokenSubject) -> Principal:
    client = await people.get_client(session, subject.id)
    if client is None or not client.is_active:
        raise Unauthorized("the client behind this token is no longer active")
    trust_ids = {client.trust_id} if client.trust_id else set()
    school_ids = {client.school_id} if client.school_id else set()
    return Principal(
        kind="client",
        id=client.id,
        name=client.name,
        scopes=frozenset(ClientScope(s) for s in client.scopes),
        client_trust_id=client.trust_id,
        client_school_id=client.school_id,
        schools_of_trust=await tenancy.school_ids_of_trusts(session, trust_ids),
        trust_of_school=await tenancy.trusts_of_schools(session, school_ids),
    )


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
