"""OAuth2 token endpoint (RFC 6749): password grant for people, client_credentials for
integrations. Form-encoded in, a short-lived JWT bearer token out."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from app.api.deps import IssuerDep, SessionDep
from app.api.rest.common import problems
from app.api.schemas.base import no_defaults
from app.api.schemas.problems import TokenProblem
from app.errors import OAuthError
from app.services import auth as service

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class TokenResponse(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: str = ""


class TokenRequest(BaseModel):
    """The token request's form (RFC 6749). A field left out is left empty: a form has no
    null, so none is nullable. Fields the grant does not use are ignored."""

    # The empty defaults are how a left-out field is read, not values to send: kept out of the
    # document, where generators would take a default as "always sent".
    model_config = ConfigDict(json_schema_extra=no_defaults)

    # Any other grant is refused as RFC 6749 says (400 unsupported_grant_type), not as a 422.
    grant_type: Annotated[
        str,
        Field(max_length=64, description="password (people) or client_credentials (integrations)"),
        WithJsonSchema({"type": "string", "enum": ["password", "client_credentials"]}),
    ]
    username: str = Field(default="", max_length=254, description="password: the email.")
    password: str = Field(default="", max_length=256, description="password: the password.")
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


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={
        **problems(),
        400: {"model": TokenProblem, "description": "The token request is refused"},
        401: {"model": TokenProblem, "description": "The client could not be authenticated"},
    },
    summary="Get a bearer token",
)
async def issue_token(
    session: SessionDep,
    issuer: IssuerDep,
    form: Annotated[TokenRequest, Form()],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    """People send `grant_type=password` with `username` (email) and `password`; integrations
    send `grant_type=client_credentials` with `client_id` and `client_secret` (in the form or as
    HTTP Basic). Tokens expire after `expires_in` seconds; ask for a new one then."""
    grant_type, username, password = form.grant_type, form.username, form.password
    client_id, client_secret = form.client_id, form.client_secret
    fields = (grant_type, username, password, client_id, client_secret, form.scope)
    if any(value and "\x00" in value for value in fields):
        raise OAuthError("invalid_request", "form fields must not contain the NUL character")
    if grant_type == "password":
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required")
        token, expires_in, granted = await service.password_grant(
            session, issuer, username=username, password=password
        )
    elif grant_type == "client_credentials":
        basic = _basic_credentials(authorization)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_client", "client_id and client_secret are required", status=401
            )
        token, expires_in, granted = await service.client_credentials_grant(
            session, issuer, client_id=client_id, client_secret=client_secret
        )
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    body = TokenResponse(access_token=token, expires_in=expires_in, scope=granted)
    return JSONResponse(
        body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )
