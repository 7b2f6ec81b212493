"""OAuth2 token endpoint (RFC 6749): password and refresh_token grants for people,
client_credentials for integrations. Form-encoded in, a short-lived JWT bearer token out (and
for people a refresh token). Signing out revokes a refresh token (RFC 7009)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from app.api.deps import IssuerDep, SessionDep, ThrottleDep
from app.api.rest.common import problems
from app.api.schemas.base import no_defaults
from app.api.schemas.problems import TokenProblem
from app.errors import OAuthError
from app.services import auth as service

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _refresh_token_when_given(schema: dict[str, Any]) -> None:
    """A refresh token is given to people only: it is left out, never null, for integrations."""
    schema["required"] = [name for name in schema["required"] if name != "refresh_token"]
    token = schema["properties"]["refresh_token"]
    schema["properties"]["refresh_token"] = {
        "type": "string",
        "title": token.get("title", "Refresh Token"),
        "description": token["description"],
    }


class TokenResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,
        json_schema_extra=_refresh_token_when_given,
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: str = ""
    refresh_token: str | None = Field(
        default=None,
        description="People only: send it with grant_type=refresh_token for a new token (and a "
        "new refresh token: each works once). Keep it secret; sign out at /v1/auth/revoke.",
    )


class TokenRequest(BaseModel):
    """The token request's form (RFC 6749). A field left out is left empty: a form has no
    null, so none is nullable. Fields the grant does not use are ignored."""

    # The empty defaults are how a left-out field is read, not values to send: kept out of the
    # document, where generators would take a default as "always sent".
    model_config = ConfigDict(json_schema_extra=no_defaults)

    # Any other grant is refused as RFC 6749 says (400 unsupported_grant_type), not as a 422.
    grant_type: Annotated[
        str,
        Field(
            max_length=64,
            description="password (people), refresh_token (people, later) or "
            "client_credentials (integrations)",
        ),
        WithJsonSchema(
            {"type": "string", "enum": ["password", "refresh_token", "client_credentials"]}
        ),
    ]
    username: str = Field(default="", max_length=254, description="password: the email.")
    password: str = Field(default="", max_length=256, description="password: the password.")
    refresh_token: str = Field(
        default="", max_length=256, description="refresh_token: the refresh token."
    )
    client_id: str = Field(default="", max_length=64, description="client_credentials.")
    client_secret: str = Field(default="", max_length=256, description="client_credentials.")
    scope: str = Field(default="", max_length=1000)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from exc
    if not sep:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401)
    return client_id, secret


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    responses={
        **problems(429, 503),
        400: {"model": TokenProblem, "description": "The token request is refused"},
        401: {"model": TokenProblem, "description": "The client could not be authenticated"},
    },
    summary="Get a bearer token",
)
async def issue_token(
    request: Request,
    session: SessionDep,
    issuer: IssuerDep,
    throttle: ThrottleDep,
    form: Annotated[TokenRequest, Form()],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    """People send `grant_type=password` with `username` (email) and `password`, and get a
    `refresh_token` too; later `grant_type=refresh_token` with it gets a new token and a new
    refresh token (each refresh token works once). Integrations send
    `grant_type=client_credentials` with `client_id` and `client_secret` (in the form or as HTTP
    Basic). Tokens expire after `expires_in` seconds, and sooner when the holder's password,
    secret, roles or status change. Too many failed sign-ins for one account, or attempts from
    one address, are answered 429 with `Retry-After`."""
    grant_type, username, password = form.grant_type, form.username, form.password
    client_id, client_secret, refresh_token = form.client_id, form.client_secret, form.refresh_token
    fields = (grant_type, username, password, refresh_token, client_id, client_secret, form.scope)
    if any(value and "\x00" in value for value in fields):
        raise OAuthError("invalid_request", "form fields must not contain the NUL character")
    address = request.client.host if request.client else None
    if grant_type == "password":
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required")
        tokens = await service.password_grant(
            session, issuer, throttle, username=username, password=password, address=address
        )
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required")
        try:
            tokens = await service.refresh_grant(
                session, issuer, throttle, refresh_token=refresh_token, address=address
            )
        except service.RefreshTokenReused:
            # The family's revocation stands though the request is refused.
            await session.commit()
            raise
    elif grant_type == "client_credentials":
        basic = _basic_credentials(authorization)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_client", "client_id and client_secret are required", status=401
            )
        tokens = await service.client_credentials_grant(
            session,
            issuer,
            throttle,
            client_id=client_id,
            client_secret=client_secret,
            address=address,
        )
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    body = TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        scope=tokens.scope,
        refresh_token=tokens.refresh_token,
    )
    return JSONResponse(body.model_dump(exclude_none=True), headers=_NO_STORE)


@router.post(
    "/revoke",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Revoked, or nothing to revoke"}, **problems()},
    summary="Sign out: revoke a refresh token",
)
async def revoke_token(
    session: SessionDep,
    # Long enough for a bearer token, which may be sent too (and changes nothing).
    token: Annotated[str, Form(max_length=4096, description="The refresh token to revoke.")],
    token_type_hint: Annotated[
        str | None, Form(max_length=64, description="refresh_token (others are ignored)")
    ] = None,
) -> Response:
    """Signing out (RFC 7009): the refresh token, and every refresh token descended from the
    same sign-in, stop working. The answer is 200 whether or not the token was known, so it
    tells nothing. Bearer tokens cannot be revoked one by one: they expire within minutes (drop
    them), and die at once when the person's password, roles or status change."""
    if "\x00" in token:
        raise OAuthError("invalid_request", "form fields must not contain the NUL character")
    await service.revoke(session, token=token)
    return Response(status_code=200, headers=_NO_STORE)
