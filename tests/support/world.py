"""A small world of trusts, schools, people and integrations for API and access tests.

Trust A has schools A1 and A2; trust B has school B1. A1 has one person of every school role;
there are trust people for A, a leader of A2 ("another school") and an admin of trust B
("another trust"), and integration clients of A1 with all scopes and with roster:read only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.secrets import hash_secret
from app.auth.tokens import TokenIssuer, TokenSubject
from app.db.people import IntegrationClient, RoleGrant, User
from app.db.tenancy import AssessmentPoint, School, Trust
from app.domain.roles import ClientScope, Role

PASSWORD = "correct horse battery staple"
CLIENT_SECRET = "mbs_test_client_secret"
_PASSWORD_HASH = hash_secret(PASSWORD)
_CLIENT_SECRET_HASH = hash_secret(CLIENT_SECRET)

# name: (role, scope key) -- scope key names a trust ("A", "B") or a school ("A1", "A2", "B1").
PEOPLE: dict[str, tuple[Role, str | None]] = {
    "system_admin": (Role.SYSTEM_ADMIN, None),
    "trust_admin": (Role.TRUST_ADMIN, "A"),
    "trust_analyst": (Role.TRUST_ANALYST, "A"),
    "school_leader": (Role.SCHOOL_LEADER, "A1"),
    "teacher": (Role.TEACHER, "A1"),
    "governor": (Role.GOVERNOR, "A1"),
    "pupil": (Role.PUPIL, "A1"),
    "parent": (Role.PARENT, "A1"),
    "other_school_leader": (Role.SCHOOL_LEADER, "A2"),
    "other_trust_admin": (Role.TRUST_ADMIN, "B"),
}
CLIENTS: dict[str, tuple[frozenset[ClientScope], str]] = {
    "integration": (frozenset(ClientScope), "A1"),
    "integration_roster_read": (frozenset({ClientScope.ROSTER_READ}), "A1"),
}
PRINCIPALS = (*PEOPLE, *CLIENTS)


@dataclass
class World:
    issuer: TokenIssuer
    trusts: dict[str, Trust] = field(default_factory=dict)
    schools: dict[str, School] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    grants: dict[str, RoleGrant] = field(default_factory=dict)
    clients: dict[str, IntegrationClient] = field(default_factory=dict)
    points: dict[str, AssessmentPoint] = field(default_factory=dict)

    def token(self, name: str) -> str:
        if name in self.clients:
            subject = TokenSubject("client", self.clients[name].id)
        else:
            subject = TokenSubject("user", self.users[name].id)
        return self.issuer.issue(subject)[0]

    def headers(self, name: str | None) -> dict[str, str]:
        return {} if name is None else {"Authorization": f"Bearer {self.token(name)}"}


def _scope(world: World, key: str | None) -> dict[str, uuid.UUID | None]:
    if key is None:
        return {"trust_id": None, "school_id": None}
    if key in world.trusts:
        return {"trust_id": world.trusts[key].id, "school_id": None}
    return {"trust_id": None, "school_id": world.schools[key].id}


async def build_world(session: AsyncSession, issuer: TokenIssuer) -> World:
    world = World(issuer=issuer)
    for key in ("A", "B"):
        world.trusts[key] = Trust(name=f"Trust {key}")
    session.add_all(world.trusts.values())
    await session.flush()
    for index, key in enumerate(("A1", "A2", "B1")):
        world.schools[key] = School(
            name=f"School {key}",
            urn=f"{100001 + index}",
            phase="primary",
            trust_id=world.trusts[key[0]].id,
        )
    session.add_all(world.schools.values())
    await session.flush()
    for key, school in world.schools.items():
        world.points[key] = AssessmentPoint(
            school_id=school.id,
            academic_year=2025,
            code="AUT",
            name="Autumn",
            position=1,
            assessed_on=date(2025, 12, 12),
        )
    session.add_all(world.points.values())
    for name, (role, key) in PEOPLE.items():
        user = User(
            email=f"{name.replace('_', '.')}@world.example.org",
            display_name=name.replace("_", " ").title(),
            password_hash=_PASSWORD_HASH,
        )
        world.users[name] = user
        session.add(user)
        await session.flush()
        world.grants[name] = RoleGrant(user_id=user.id, role=role, **_scope(world, key))
        session.add(world.grants[name])
    for name, (scopes, key) in CLIENTS.items():
        world.clients[name] = IntegrationClient(
            name=name,
            client_id=f"mbc_{name}",
            secret_hash=_CLIENT_SECRET_HASH,
            scopes=sorted(scopes),
            **_scope(world, key),
        )
        session.add(world.clients[name])
    await session.commit()
    return world


def expired_issuer(issuer: TokenIssuer) -> TokenIssuer:
    return TokenIssuer(
        key=issuer.key, issuer=issuer.issuer, audience=issuer.audience, ttl=timedelta(seconds=-60)
    )
