"""GraphQL enums for the closed sets of the domain: each is the domain's own enum (one list of
members), named and described for the schema. A member reads by its name (``EHC_PLAN``, not
``E``): GraphQL enum values are names, and REST and files keep the codes."""

from __future__ import annotations

import strawberry

from app.domain import pupils, roles, scales, schools, targets

Sex = strawberry.enum(pupils.Sex, description="A pupil's sex as the school census records it.")
SenStatus = strawberry.enum(
    pupils.SenStatus,
    description="Special educational needs as in the school census: NONE (N), SUPPORT (K, "
    "SEN support), EHC_PLAN (E, an education, health and care plan).",
)
Phase = strawberry.enum(schools.Phase, description="A school's phase of education (DfE).")
Role = strawberry.enum(roles.Role, description="A role a person holds in a trust or school.")
ClientScope = strawberry.enum(
    roles.ClientScope,
    name="Scope",
    description="What an integration client may do (OAuth2 scope): ROSTER_READ is roster:read.",
)
PrincipalKind = strawberry.enum(
    roles.PrincipalKind, description="A person (USER) or an integration client (CLIENT)."
)
ScaleKind = strawberry.enum(scales.ScaleKind, description="What a scale describes.")
MeasureKind = strawberry.enum(scales.MeasureKind, description="What a measure's values are.")
Band = strawberry.enum(scales.Band, description="Below, at or above what is expected.")
TargetStatus = strawberry.enum(
    targets.TargetStatus,
    description="OPEN, CLOSED (no longer worked on) or ACHIEVED (marked so, or its objective "
    "judged secure).",
)
