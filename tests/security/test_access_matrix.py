"""The access matrix: every route, asked by every principal of the test world and by nobody.

DESIGN.md section 6 and app/auth/policy.py, written out as the status each caller must get:

- no token: 401 (problem+json, WWW-Authenticate: Bearer), except health, the token endpoint
  and signing out;
- something outside the caller's reach, named in the URL: 404, exactly as if it did not exist;
- something the caller can see but may not change: 403;
- listing or creating in a resource family the caller has no right to at all: 403; except
  under a school or trust in the URL (its pupils, classes, groups, roster sync and imports):
  the school or trust is then not found for that family (404), as for one out of reach;
- something outside the caller's reach named in a request *body* (the trust of a new school,
  the school of a new grant or client, a pupil or teacher of another school, a school's URN in
  a trust-wide sync): 422, the same answer as for one that does not exist
  (test_out_of_reach_body_reference_looks_like_missing checks the sameness).

Each row aims at concrete objects: "A1" at school A1 (and things in it), "A" at trust A (and
things held trust-wide in it), "B"/"B1" at trust B and its school B1, out of reach of everyone
in trust A. "A1-untaught" is a pupil of A1 in no class the teacher teaches. People, clients and
roster objects used as targets come from the ``targets`` fixture (conftest), so no case has a
principal acting on itself. A case whose write should succeed runs on a fresh copy of the world;
the rest share one. Every refused write (any 4xx on POST/PATCH/PUT/DELETE) must leave every row
of every table as it was.

Columns, in this order (see COLUMNS):
  anon  no token                        tchr  teacher of A1
  sys   system_admin                    gov   governor of A1
  tadm  trust_admin of trust A          pupl  pupil of A1
  tana  trust_analyst of trust A        prnt  parent of A1
  lead  school_leader of A1             A2ld  other_school_leader (leader of A2, trust A)
  Btad  other_trust_admin (trust B)     int   integration client of A1, every scope
                                        intR  integration client of A1, roster:read only
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api.deps import GRAPHQL_PATH
from app.api.graphql.schema import schema as graphql_schema
from app.domain.pupils import make_upn
from tests.conftest import TestDatabases
from tests.security.checks import Snapshot, assert_problem, assert_unchanged
from tests.security.conftest import TARGETS_SEED, Shared, Targets, seeded_targets
from tests.support.definitions import CASE_PACKAGE, OBJECTIVES_CSV, PUPILS_AT_AUTUMN
from tests.support.files import ctf_xml, oneroster_zip
from tests.support.reports import graphql_definition
from tests.support.roster import this_year
from tests.support.world import CLIENT_SECRET, PASSWORD, PRINCIPALS

COLUMNS = (
    "anonymous",
    "system_admin",
    "trust_admin",
    "trust_analyst",
    "school_leader",
    "teacher",
    "governor",
    "pupil",
    "parent",
    "other_school_leader",
    "other_trust_admin",
    "integration",
    "integration_roster_read",
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})
# /graphql is one route serving many fields: GRAPHQL_MATRIX (below) holds its rows, per field.
GRAPHQL_PATHS = frozenset({GRAPHQL_PATH})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Route = tuple[str, str]  # (method, path template)

# Rows used by many routes: only trust B's own admin (and the system admin) reach trust B.
OUT_B = "401  200  404  404  404  404  404  404  404  404  200  404  404"
EVERYONE = "200  200  200  200  200  200  200  200  200  200  200  200  200"
SIGNED_IN = "401  200  200  200  200  200  200  200  200  200  200  200  200"
# The roster of A1 (and a pupil the teacher teaches): read by its staff, trust A's staff and
# both clients, written by leaders, trust admins and the roster:write client.
ROSTER_READ = "401  200  200  200  200  200  404  404  404  404  404  200  200"
ROSTER_WRITE = "401  200  200  403  200  403  404  404  404  404  404  200  403"
# Definitions (subjects, scales, measures, frameworks and objectives): school A1's ("A1") read by
# all of A1's people, trust A's staff and the definitions:read client; trust A's ("A") also by
# A2's leader; written by A1's leader, trust A's admin and the definitions:write client. A
# trust's definitions are read, never written, by its schools' people and clients. The
# roster:read client holds no definition rights: for it they are not there at all.
DEF_READ_A1 = "401  200  200  200  200  200  200  200  200  404  404  200  404"
DEF_READ_A = "401  200  200  200  200  200  200  200  200  200  404  200  404"
DEF_WRITE_A1 = "401  200  200  403  200  403  403  403  403  404  404  200  404"
DEF_WRITE_A = "401  200  200  403  403  403  403  403  403  403  404  403  404"
# Lists: every school role reads definitions; with ?school_id=, that school's and its trust's.
# A caller with no definition rights at all may not list them (403), filter or none.
DEF_LIST = "401  200  200  200  200  200  200  200  200  200  200  200  403"
DEF_LIST_A1 = "401  200  200  200  200  200  200  200  200  404  404  200  403"
DEF_LIST_B1 = "401  200  404  404  404  404  404  404  404  404  200  404  403"
# Creating: the owner is in the body. No right to write definitions anywhere: 403; an owner
# out of reach: 422 (as one that does not exist); in reach but not writable: 403.
DEF_CREATE_A1 = "401  201  201  403  201  403  403  403  403  422  422  201  403"
DEF_CREATE_A = "401  201  201  403  403  403  403  403  403  403  422  403  403"
DEF_CREATE_B1 = "401  201  422  403  422  403  403  403  403  422  201  422  403"
# The markbook of A1 (judgements, working years; values likewise with values:* scopes).
MARKBOOK_READ = "401  200  200  200  200  200  404  200  200  404  404  200  404"
MARKBOOK_WRITE = "401  200  200  403  200  200  404  403  403  404  404  200  404"
MARKBOOK_WRITE_UNTAUGHT = "401  200  200  403  200  422  404  403  403  404  404  200  404"
PUPIL_RECORD = {
    #               anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
    "A1": MARKBOOK_READ,
    "A1-untaught": "401  200  200  200  200  404  404  404  404  404  404  200  404",
    "B1": OUT_B,
}
# Reports over A1 (or across trust A): whoever holds report rights there.
REPORT_A1 = "401  200  200  200  200  200  200  404  404  404  404  200  404"
REPORT_A = "401  200  200  200  200  200  200  404  404  200  404  200  404"
DEF_READ = {"A1": DEF_READ_A1, "A": DEF_READ_A, "B1": OUT_B}
DEF_WRITE = {"A1": DEF_WRITE_A1, "A": DEF_WRITE_A, "B1": OUT_B}
DEF_CREATE = {"A1": DEF_CREATE_A1, "A": DEF_CREATE_A, "B1": DEF_CREATE_B1}
DEF_LISTS = {"-": DEF_LIST, "A1": DEF_LIST_A1, "B1": DEF_LIST_B1}

# fmt: off
MATRIX: dict[Route, dict[str, str]] = {
    # --- open: health and signing in -------------------------------------------------------
    ("GET", "/healthz"): {"-": EVERYONE},
    ("GET", "/readyz"): {"-": EVERYONE},
    ("POST", "/v1/auth/token"): {  # a bearer header, valid or not, changes nothing here
        "password": EVERYONE,
        "client": EVERYONE,
    },
    ("POST", "/v1/auth/revoke"): {"-": EVERYONE},  # signing out: the refresh token is the key
    ("GET", "/v1/me"): {"-": SIGNED_IN},
    ("GET", "/v1/academic-years/current"): {"-": SIGNED_IN},
    ("GET", "/v1/academic-years/{start_year}"): {"-": SIGNED_IN},

    # --- trusts: read by their people and their schools' staff, written by their admins -----
    ("POST", "/v1/trusts"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "-":  "401  201  403  403  403  403  403  403  403  403  403  403  403",
    },
    ("GET", "/v1/trusts"): {
        "-":  "401  200  200  200  200  200  200  403  403  200  200  200  200",
    },
    ("GET", "/v1/trusts/{trust_id}"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A":  "401  200  200  200  200  200  200  404  404  200  404  200  200",
        "B": OUT_B,
    },
    ("PATCH", "/v1/trusts/{trust_id}"): {
        "A":  "401  200  200  403  403  403  403  404  404  403  404  403  403",
        "B": OUT_B,
    },

    # --- schools: a trust's admin adds them; the school's leader edits it --------------------
    ("POST", "/v1/schools"): {  # target: the trust_id in the body
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A":  "401  201  201  403  403  403  403  403  403  403  422  403  403",
        "B":  "401  201  422  403  403  403  403  403  403  403  201  403  403",
    },
    ("GET", "/v1/schools"): {"-": SIGNED_IN},
    ("GET", "/v1/schools/{school_id}"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  200  200  200  200  200  200  200  200  404  404  200  200",
        "B1": OUT_B,
    },
    ("PATCH", "/v1/schools/{school_id}"): {
        "A1": "401  200  200  403  200  403  403  403  403  404  404  403  403",
        "B1": OUT_B,
    },

    # --- assessment points: read by the school's people, written by leaders and definitions:write
    ("POST", "/v1/schools/{school_id}/assessment-points"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  403  403  403  403  404  404  201  403",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    ("GET", "/v1/schools/{school_id}/assessment-points"): {
        "A1": "401  200  200  200  200  200  200  200  200  404  404  200  200",
        "B1": OUT_B,
    },
    ("POST", "/v1/schools/{school_id}/assessment-points/default-calendar"): {
        "A1": "401  200  200  403  200  403  403  403  403  404  404  200  403",
        "B1": OUT_B,
    },
    ("GET", "/v1/assessment-points/{point_id}"): {
        "A1": "401  200  200  200  200  200  200  200  200  404  404  200  200",
        "B1": OUT_B,
    },
    ("PATCH", "/v1/assessment-points/{point_id}"): {
        "A1": "401  200  200  403  200  403  403  403  403  404  404  200  403",
        "B1": OUT_B,
    },

    # --- users: seen and managed by leaders (their school) and admins (their trust) ----------
    # Nobody holds users read-only, so there is no 403 for a user in the URL: either the
    # caller manages that person or the person is out of reach (404). A trust-wide person
    # ("A") is out of reach of a school's leader.
    ("POST", "/v1/users"): {  # target: the school of the grant in the body
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  403  403  403  403  422  422  403  403",
        "B1": "401  201  422  403  422  403  403  403  403  422  201  403  403",
    },
    ("GET", "/v1/users"): {
        "-":  "401  200  200  403  200  403  403  403  403  200  200  403  403",
    },
    ("GET", "/v1/users/{user_id}"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  200  200  404  200  404  404  404  404  404  404  404  404",
        "A":  "401  200  200  404  404  404  404  404  404  404  404  404  404",
        "B1": OUT_B,
    },
    ("PATCH", "/v1/users/{user_id}"): {
        "A1": "401  200  200  404  200  404  404  404  404  404  404  404  404",
        "A":  "401  200  200  404  404  404  404  404  404  404  404  404  404",
        "B1": OUT_B,
    },
    ("POST", "/v1/users/{user_id}/grants"): {  # gives a governor role in A1 (B1 for "B1")
        "A1": "401  201  201  404  201  404  404  404  404  404  404  404  404",
        "A":  "401  201  201  404  404  404  404  404  404  404  404  404  404",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    ("DELETE", "/v1/users/{user_id}/grants/{grant_id}"): {
        "A1": "401  204  204  404  204  404  404  404  404  404  404  404  404",
        "A":  "401  204  204  404  404  404  404  404  404  404  404  404  404",
        "B1": "401  204  404  404  404  404  404  404  404  404  204  404  404",
    },

    # --- integration clients: like users, managed by leaders and admins ----------------------
    ("POST", "/v1/integration-clients"): {  # target: the school in the body
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  403  403  403  403  422  422  403  403",
        "B1": "401  201  422  403  422  403  403  403  403  422  201  403  403",
    },
    ("GET", "/v1/integration-clients"): {
        "-":  "401  200  200  403  200  403  403  403  403  200  200  403  403",
    },
    ("GET", "/v1/integration-clients/{client_pk}"): {
        "A1": "401  200  200  404  200  404  404  404  404  404  404  404  404",
        "A":  "401  200  200  404  404  404  404  404  404  404  404  404  404",
        "B1": OUT_B,
    },
    ("PATCH", "/v1/integration-clients/{client_pk}"): {
        "A1": "401  200  200  404  200  404  404  404  404  404  404  404  404",
        "A":  "401  200  200  404  404  404  404  404  404  404  404  404  404",
        "B1": OUT_B,
    },
    ("POST", "/v1/integration-clients/{client_pk}/secret"): {
        "A1": "401  200  200  404  200  404  404  404  404  404  404  404  404",
        "A":  "401  200  200  404  404  404  404  404  404  404  404  404  404",
        "B1": OUT_B,
    },

    # --- audit trail: leaders and admins, within reach ---------------------------------------
    ("GET", "/v1/audit-events"): {
        "-":  "401  200  200  403  200  403  403  403  403  200  200  403  403",
    },

    # --- the roster: pupils, enrolments, classes, groups, syncs and imports ------------------
    # Read by the school's (and trust's) staff and roster:read clients, a teacher reading only
    # the pupils of the classes they teach ("A1" is one of them, "A1-untaught" is not);
    # written by leaders, trust admins and roster:write clients; a pupil erased only by people
    # who hold the erase right (leaders, trust admins), never by a client. Governors, pupils
    # and parents hold no roster rights, so for them a school's roster is not found at all.
    ("POST", "/v1/schools/{school_id}/pupils"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  403  404  404  404  404  404  201  403",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    ("GET", "/v1/schools/{school_id}/pupils"): {
        "A1": ROSTER_READ,
        "B1": OUT_B,
    },
    ("GET", "/v1/pupils/{pupil_id}"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": ROSTER_READ,
        "A1-untaught": "401  200  200  200  200  404  404  404  404  404  404  200  200",
        "B1": OUT_B,
    },
    ("PATCH", "/v1/pupils/{pupil_id}"): {
        "A1": ROSTER_WRITE,
        "A1-untaught": "401  200  200  403  200  404  404  404  404  404  404  200  403",
        "B1": OUT_B,
    },
    ("DELETE", "/v1/pupils/{pupil_id}"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  204  204  403  204  403  404  404  404  404  404  403  403",
        "A1-untaught": "401  204  204  403  204  404  404  404  404  404  404  403  403",
        "B1": "401  204  404  404  404  404  404  404  404  404  204  404  404",
    },
    # "A1" is enrolled this year (so the enrolment is changed), "A1-untaught" is not (created).
    ("PUT", "/v1/pupils/{pupil_id}/enrolments/{academic_year}"): {
        "A1": ROSTER_WRITE,
        "A1-untaught": "401  201  201  403  201  404  404  404  404  404  404  201  403",
        "B1": OUT_B,
    },
    ("GET", "/v1/schools/{school_id}/enrolments"): {
        "A1": ROSTER_READ,
        "B1": OUT_B,
    },
    ("POST", "/v1/schools/{school_id}/classes"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  403  404  404  404  404  404  201  403",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    ("GET", "/v1/schools/{school_id}/classes"): {
        "A1": ROSTER_READ,
        "B1": OUT_B,
    },
    ("GET", "/v1/classes/{class_id}"): {
        "A1": ROSTER_READ,
        "B1": OUT_B,
    },
    ("PATCH", "/v1/classes/{class_id}"): {
        "A1": ROSTER_WRITE,
        "B1": OUT_B,
    },
    ("POST", "/v1/schools/{school_id}/groups"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  403  404  404  404  404  404  201  403",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    ("GET", "/v1/schools/{school_id}/groups"): {
        "A1": ROSTER_READ,
        "B1": OUT_B,
    },
    ("GET", "/v1/groups/{group_id}"): {
        "A1": ROSTER_READ,
        "B1": OUT_B,
    },
    ("PATCH", "/v1/groups/{group_id}"): {
        "A1": ROSTER_WRITE,
        "B1": OUT_B,
    },
    ("DELETE", "/v1/groups/{group_id}"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  204  204  403  204  403  404  404  404  404  404  204  403",
        "B1": "401  204  404  404  404  404  404  404  404  404  204  404  404",
    },
    ("POST", "/v1/schools/{school_id}/roster/sync"): {
        "A1": ROSTER_WRITE,
        "B1": OUT_B,
    },
    # A trust-wide sync writes the schools of the trust the caller may write, rows naming their
    # school by URN (here A1's, or B1's for "B"). A1's leader and client may write A1 that way;
    # A2's leader reaches trust A but not A1's roster, so the row's school is "no such school
    # within your reach" (422), as a URN that exists nowhere would be.
    ("POST", "/v1/trusts/{trust_id}/roster/sync"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A":  "401  200  200  403  200  403  404  404  404  422  404  200  403",
        "B": OUT_B,
    },
    ("POST", "/v1/schools/{school_id}/imports/ctf"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  403  404  404  404  404  404  201  403",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    ("POST", "/v1/schools/{school_id}/imports/oneroster"): {
        "A1": "401  201  201  403  201  403  404  404  404  404  404  201  403",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    # Import jobs name pupils by key: seen only by those who may import into the school.
    ("GET", "/v1/import-jobs/{job_id}"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  200  200  404  200  404  404  404  404  404  404  200  404",
        "B1": OUT_B,
    },

    # --- definitions: subjects, scales, measures, frameworks and objectives ------------------
    # Targets: what school A1 owns ("A1"), what trust A owns ("A"), what school B1 owns ("B1");
    # for creating, the owner named in the body; for lists, "-" is no filter and a school key
    # is ?school_id= that school.
    ("POST", "/v1/subjects"): DEF_CREATE,
    ("GET", "/v1/subjects"): DEF_LISTS,
    ("GET", "/v1/subjects/{subject_id}"): DEF_READ,
    ("PATCH", "/v1/subjects/{subject_id}"): DEF_WRITE,
    ("POST", "/v1/scales"): DEF_CREATE,
    ("GET", "/v1/scales"): DEF_LISTS,
    ("GET", "/v1/scales/{scale_id}"): DEF_READ,
    ("PATCH", "/v1/scales/{scale_id}"): DEF_WRITE,
    ("POST", "/v1/measures"): DEF_CREATE,
    ("GET", "/v1/measures"): DEF_LISTS,
    ("GET", "/v1/measures/{measure_id}"): DEF_READ,
    ("PATCH", "/v1/measures/{measure_id}"): DEF_WRITE,
    ("POST", "/v1/frameworks"): DEF_CREATE,
    ("GET", "/v1/frameworks"): DEF_LISTS,
    ("GET", "/v1/frameworks/{framework_id}"): DEF_READ,
    ("PATCH", "/v1/frameworks/{framework_id}"): DEF_WRITE,
    ("GET", "/v1/frameworks/{framework_id}/objectives"): DEF_READ,
    ("POST", "/v1/frameworks/{framework_id}/objectives"): DEF_WRITE,
    ("PUT", "/v1/frameworks/{framework_id}/objectives"): DEF_WRITE,
    ("GET", "/v1/objectives/{objective_id}"): DEF_READ,
    ("PATCH", "/v1/objectives/{objective_id}"): DEF_WRITE,
    # A framework from a file: the owner (and the subject) are query parameters, answered as a
    # body's are (an owner out of reach is 422).
    ("POST", "/v1/frameworks/imports/csv"): DEF_CREATE,
    ("POST", "/v1/frameworks/imports/case"): DEF_CREATE,
    # The starter pack writes the school's definitions (and its calendar).
    ("POST", "/v1/schools/{school_id}/starter-pack"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  200  200  403  200  403  403  403  403  404  404  200  404",
        "B1": OUT_B,
    },

    # --- the markbook: judgements and working years ------------------------------------------
    # Read by A1's staff (a teacher: the pupils they teach), trust A's staff, the judgements
    # client, and the pupil and parent whose grants name the A1 pupil (their own row only);
    # written by leaders, trust admins, the teacher (for their pupils) and the client. A pupil
    # out of the teacher's reach named in the body is refused as unknown (422).
    ("GET", "/v1/schools/{school_id}/markbook"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": MARKBOOK_READ,
        "B1": OUT_B,
    },
    ("POST", "/v1/schools/{school_id}/markbook"): {
        "A1": MARKBOOK_WRITE,
        "A1-untaught": MARKBOOK_WRITE_UNTAUGHT,
        "B1": OUT_B,
    },
    ("POST", "/v1/schools/{school_id}/working-years"): {
        "A1": MARKBOOK_WRITE,
        "A1-untaught": MARKBOOK_WRITE_UNTAUGHT,
        "B1": OUT_B,
    },
    # Measure values: as the markbook, with the values:* scopes.
    ("POST", "/v1/schools/{school_id}/values"): {
        "A1": MARKBOOK_WRITE,
        "A1-untaught": MARKBOOK_WRITE_UNTAUGHT,
        "B1": OUT_B,
    },
    ("GET", "/v1/schools/{school_id}/values"): {"A1": MARKBOOK_READ, "B1": OUT_B},
    # Score files: stored (dry_run=false) through the values service; the columns of a file
    # are read only for those who may import it.
    ("POST", "/v1/schools/{school_id}/values/imports"): {
        "A1": MARKBOOK_WRITE,
        "A1-untaught": MARKBOOK_WRITE_UNTAUGHT,
        "B1": OUT_B,
    },
    ("POST", "/v1/schools/{school_id}/values/imports/columns"): {
        "A1": MARKBOOK_WRITE,
        "B1": OUT_B,
    },
    # One pupil's record: "A1" is the teacher's pupil and the pupil's and parent's own.
    ("GET", "/v1/pupils/{pupil_id}/values/history"): PUPIL_RECORD,
    ("GET", "/v1/pupils/{pupil_id}/record"): PUPIL_RECORD,
    ("GET", "/v1/pupils/{pupil_id}/judgements"): PUPIL_RECORD,
    # Everything held about a pupil (subject access): exported by leaders and trust admins
    # only; whoever else sees the pupil (their roster entry or their record) is forbidden.
    ("GET", "/v1/pupils/{pupil_id}/subject-access"): {
        #               anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1":          "401  200  200  403  200  403  404  403  403  404  404  403  403",
        "A1-untaught": "401  200  200  403  200  404  404  404  404  404  404  403  403",
        "B1": OUT_B,
    },
    # A pupil's page and targets: read as the record is (targets with the judgements:* scopes);
    # targets set and changed by whoever records the pupil's judgements, never by the pupil or
    # parent (403: they see them), nor by a trust analyst (403: reads only).
    ("GET", "/v1/pupils/{pupil_id}/page"): PUPIL_RECORD,
    ("GET", "/v1/me/pupils"): {"-": SIGNED_IN},
    ("GET", "/v1/pupils/{pupil_id}/targets"): PUPIL_RECORD,
    ("GET", "/v1/targets/{target_id}"): PUPIL_RECORD,
    ("POST", "/v1/pupils/{pupil_id}/targets"): {
        #               anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1":          "401  201  201  403  201  201  404  403  403  404  404  201  404",
        "A1-untaught": "401  201  201  403  201  404  404  404  404  404  404  201  404",
        "B1":          "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },
    ("PATCH", "/v1/targets/{target_id}"): {
        #               anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1":          "401  200  200  403  200  200  404  403  403  404  404  200  404",
        "A1-untaught": "401  200  200  403  200  404  404  404  404  404  404  200  404",
        "B1": OUT_B,
    },
    # A class's pupils all at once: the class is there for those who read classes.
    ("POST", "/v1/classes/{class_id}/targets"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  201  201  403  201  201  404  404  404  404  404  201  404",
        "B1": "401  201  404  404  404  404  404  404  404  404  201  404  404",
    },

    # --- reports: run by those with report rights over the school (a teacher: their pupils),
    # never by pupils and parents; a trust report covers the trust's schools the caller may
    # report on (A1's people: A1; A2's leader: A2). Only those who see pupils list the pupils
    # behind a matrix cell (a governor: 403). Templates are definitions: read and written as
    # subjects and scales are, and run where their owner's reports run.
    ("POST", "/v1/schools/{school_id}/reports"): {"A1": REPORT_A1, "B1": OUT_B},
    ("POST", "/v1/trusts/{trust_id}/reports"): {"A": REPORT_A, "B": OUT_B},
    ("POST", "/v1/schools/{school_id}/reports/matrix-pupils"): {
        #      anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
        "A1": "401  200  200  200  200  200  403  404  404  404  404  200  404",
        "B1": OUT_B,
    },
    ("GET", "/v1/schools/{school_id}/report-templates/{template_id}/report"): {
        "A1": REPORT_A1,
        "A": REPORT_A1,  # trust A's template, run at A1
        "B1": OUT_B,
    },
    ("GET", "/v1/trusts/{trust_id}/report-templates/{template_id}/report"): {
        "A": REPORT_A,
        "B": OUT_B,
    },
    # A template's chart is its report, drawn: the same audiences.
    ("GET", "/v1/schools/{school_id}/report-templates/{template_id}/charts/{chart}"): {
        "A1": REPORT_A1,
        "A": REPORT_A1,
        "B1": OUT_B,
    },
    ("GET", "/v1/trusts/{trust_id}/report-templates/{template_id}/charts/{chart}"): {
        "A": REPORT_A,
        "B": OUT_B,
    },
    ("POST", "/v1/report-templates"): DEF_CREATE,
    ("GET", "/v1/report-templates"): DEF_LISTS,
    ("GET", "/v1/report-templates/{template_id}"): DEF_READ,
    ("PATCH", "/v1/report-templates/{template_id}"): DEF_WRITE,
    ("GET", "/v1/report-templates/{template_id}/versions"): DEF_READ,
}
# fmt: on


# --- What each case sends ------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    content: bytes | None = None  # a raw body (a file upload), sent with ``headers``
    files: dict[str, tuple[str, bytes, str]] | None = None  # multipart/form-data parts
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] | None = None

    def send(self, client: httpx.AsyncClient, method: str, url: str, auth: dict[str, str]) -> Any:
        return client.request(
            method,
            url,
            headers={**self.headers, **auth},
            params=self.query,
            json=self.json,
            data=self.form,
            content=self.content,
            files=self.files,
        )


def _point_body() -> dict[str, Any]:
    return {
        "academic_year": 2025,
        "code": "MID",
        "name": "Midpoint",
        "position": 2,
        "assessed_on": "2026-02-13",
    }


def _new_user(t: Targets, key: str) -> dict[str, Any]:
    return {
        "email": "new.person@world.example.org",
        "display_name": "New Person",
        "password": "a long enough new password",
        "grants": [{"role": "teacher", **t.scope(key)}],
    }


def _token_form(t: Targets, key: str) -> dict[str, str]:
    if key == "password":
        email = t.world.users["teacher"].email
        return {"grant_type": "password", "username": email, "password": PASSWORD}
    client_id = t.world.clients["integration"].client_id
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
    }


def _grant_school(key: str) -> str:
    """Where a new grant for the target person goes: their own school, or A1 for trust staff."""
    return "B1" if key == "B1" else "A1"


def _new_pupil(number: int) -> dict[str, Any]:
    """A pupil no target has the keys of."""
    return {
        "external_id": f"NEW-{number}",
        "upn": make_upn(f"80288882612{number}"),
        "legal_forename": "New",
        "legal_surname": "Pupil",
        "date_of_birth": "2016-10-11",
        "sex": "M",
        "year_group": "4",
    }


def _sync_body(t: Targets, key: str) -> dict[str, Any]:
    """A sync of one new pupil; trust-wide ("A", "B"), the row names its school by URN."""
    pupil = _new_pupil(2)
    if key in t.world.trusts:
        pupil["school_urn"] = t.school(f"{key}1").urn
    return {"academic_year": this_year(), "pupils": [pupil]}


def _school_key(key: str) -> str:
    """The school a pupil target belongs to: "A1-untaught" is in A1."""
    return key.split("-", 1)[0]


def _cell(t: Targets, key: str) -> dict[str, Any]:
    """A judgement of the target pupil on an objective of its school's framework."""
    objective = t.definitions[_school_key(key)].objectives[0]
    return {
        "pupil_id": str(t.pupils[key].id),
        "objective_id": str(objective.id),
        "descriptor": "EXS",
    }


def _score_file(t: Targets, key: str) -> bytes:
    return f"UPN,Scaled score\r\n{t.pupils[key].upn},104\r\n".encode()


def _score_import(t: Targets, key: str) -> Call:
    """A score file of the target pupil, stored (not a dry run)."""
    school = _school_key(key)
    mapping = {
        "assessment_point_id": str(t.point(school).id),
        "pupil": {"by": "upn", "column": "UPN"},
        "columns": [
            {"column": "Scaled score", "measure_id": str(t.definitions[school].measure.id)}
        ],
    }
    return Call(
        path={"school_id": t.school(school).id},
        query={"dry_run": "false"},
        form={"mapping": json.dumps(mapping)},
        files={"file": ("scores.csv", _score_file(t, key), "text/csv")},
    )


def _import(t: Targets, key: str, kind: str) -> Call:
    """A file of one new pupil for the target school."""
    pupil = _new_pupil(3)
    urn = t.school(key).urn
    if kind == "ctf":
        data, media_type = ctf_xml([pupil], dest_urn=urn), "application/xml"
    else:
        data, media_type = oneroster_zip([pupil], school_urn=urn), "application/zip"
    return Call(
        path={"school_id": t.school(key).id}, content=data, headers={"Content-Type": media_type}
    )


def _school_filter(t: Targets, key: str) -> Call:
    """A definitions list: unfiltered ("-"), or what the school uses (?school_id=)."""
    return Call() if key == "-" else Call(query={"school_id": str(t.school(key).id)})


def _new_scale(t: Targets, key: str) -> dict[str, Any]:
    return {
        "name": "Reading attainment",
        "kind": "attainment",
        "descriptors": [
            {"code": "WTS", "label": "Working towards", "value": 1, "band": "below"},
            {"code": "EXS", "label": "Expected", "value": 2, "band": "at"},
        ],
        **t.scope(key),
    }


def _new_measure(t: Targets, key: str) -> dict[str, Any]:
    """A scale measure on the owner's own scale and subject."""
    found = t.definitions[key]
    return {
        "name": "Maths depth",
        "code": "MA-DEPTH",
        "kind": "scale",
        "scale_id": str(found.scale.id),
        "subject_id": str(found.subject.id),
        **t.scope(key),
    }


def _new_framework(t: Targets, key: str) -> dict[str, Any]:
    subject_id = str(t.definitions[key].subject.id)
    return {"name": "Mathematics (school)", "subject_id": subject_id, **t.scope(key)}


def _objectives(t: Targets, key: str, *, replace: bool) -> Call:
    """A new objective (POST adds it at the end); with ``replace``, the first one kept and
    the second left out (so archived)."""
    new = {"code": "MA4-N9", "statement": "Round any number to 10, 100 or 1000.", "is_key": True}
    kept = t.definitions[key].objectives[0]
    items = [{"code": kept.code, "statement": kept.statement}] if replace else []
    items = [{**item, "curriculum_years": "3-4"} for item in [*items, new]]
    return Call(path={"framework_id": t.definitions[key].framework.id}, json={"objectives": items})


def _framework_import(t: Targets, key: str, kind: str) -> Call:
    """A one-objective file for the target owner (in the query), on its own subject."""
    owner = {name: value for name, value in t.scope(key).items() if value is not None}
    query = {**owner, "subject_id": str(t.definitions[key].subject.id)}
    if kind == "csv":
        return Call(query=query, content=OBJECTIVES_CSV, headers={"Content-Type": "text/csv"})
    return Call(
        query={**query, "curriculum_years": "5"},
        content=CASE_PACKAGE,
        headers={"Content-Type": "application/json"},
    )


def _matrix_cell() -> dict[str, Any]:
    """The pupils at and at in maths, by the KS2 score, at autumn against autumn (the world
    has one point; a matrix needs two columns)."""
    definition = {
        **PUPILS_AT_AUTUMN,
        "metrics": [{"metric": "progress_matrix"}],
        "points": ["AUT", "end"],
        "attainment": [{"subject": "MA", "measure": "KS2-MA-SS"}],
    }
    return {
        "definition": definition,
        "metric": 0,
        "keys": {"subject": "MA", "group": None, "group_value": None},
        "from_category": "at",
        "to_category": "at",
    }


REQUESTS: dict[Route, Callable[[Targets, str], Call]] = {
    ("GET", "/healthz"): lambda t, k: Call(),
    ("GET", "/readyz"): lambda t, k: Call(),
    ("POST", "/v1/auth/token"): lambda t, k: Call(form=_token_form(t, k)),
    ("POST", "/v1/auth/revoke"): lambda t, k: Call(form={"token": "mbr_not-one-issued"}),
    ("GET", "/v1/me"): lambda t, k: Call(),
    ("GET", "/v1/academic-years/current"): lambda t, k: Call(),
    ("GET", "/v1/academic-years/{start_year}"): lambda t, k: Call(path={"start_year": 2025}),
    ("POST", "/v1/trusts"): lambda t, k: Call(json={"name": "Trust C"}),
    ("GET", "/v1/trusts"): lambda t, k: Call(),
    ("GET", "/v1/trusts/{trust_id}"): lambda t, k: Call(path={"trust_id": t.trust(k).id}),
    ("PATCH", "/v1/trusts/{trust_id}"): lambda t, k: Call(
        path={"trust_id": t.trust(k).id}, json={"name": "Renamed Trust"}
    ),
    ("POST", "/v1/schools"): lambda t, k: Call(
        json={
            "name": "New School",
            "urn": "100099",
            "phase": "primary",
            "trust_id": str(t.trust(k).id),
        }
    ),
    ("GET", "/v1/schools"): lambda t, k: Call(),
    ("GET", "/v1/schools/{school_id}"): lambda t, k: Call(path={"school_id": t.school(k).id}),
    ("PATCH", "/v1/schools/{school_id}"): lambda t, k: Call(
        # The school's settings, the on-track switch among them, are its leaders'.
        path={"school_id": t.school(k).id},
        json={"name": "Renamed School", "on_track_for_pupils": False},
    ),
    ("POST", "/v1/schools/{school_id}/assessment-points"): lambda t, k: Call(
        path={"school_id": t.school(k).id}, json=_point_body()
    ),
    ("GET", "/v1/schools/{school_id}/assessment-points"): lambda t, k: Call(
        path={"school_id": t.school(k).id}
    ),
    ("POST", "/v1/schools/{school_id}/assessment-points/default-calendar"): lambda t, k: Call(
        path={"school_id": t.school(k).id}, json={"academic_year": 2025}
    ),
    ("GET", "/v1/assessment-points/{point_id}"): lambda t, k: Call(
        path={"point_id": t.point(k).id}
    ),
    ("PATCH", "/v1/assessment-points/{point_id}"): lambda t, k: Call(
        path={"point_id": t.point(k).id}, json={"name": "Autumn Data"}
    ),
    ("POST", "/v1/users"): lambda t, k: Call(json=_new_user(t, k)),
    ("GET", "/v1/users"): lambda t, k: Call(),
    ("GET", "/v1/users/{user_id}"): lambda t, k: Call(path={"user_id": t.users[k].id}),
    ("PATCH", "/v1/users/{user_id}"): lambda t, k: Call(
        path={"user_id": t.users[k].id}, json={"display_name": "Renamed Person"}
    ),
    ("POST", "/v1/users/{user_id}/grants"): lambda t, k: Call(
        path={"user_id": t.users[k].id},
        json={"role": "governor", **t.scope(_grant_school(k))},
    ),
    ("DELETE", "/v1/users/{user_id}/grants/{grant_id}"): lambda t, k: Call(
        path={"user_id": t.users[k].id, "grant_id": t.grants[k].id}
    ),
    ("POST", "/v1/integration-clients"): lambda t, k: Call(
        json={"name": "New Sync", "scopes": ["roster:read"], **t.scope(k)}
    ),
    ("GET", "/v1/integration-clients"): lambda t, k: Call(),
    ("GET", "/v1/integration-clients/{client_pk}"): lambda t, k: Call(
        path={"client_pk": t.clients[k].id}
    ),
    ("PATCH", "/v1/integration-clients/{client_pk}"): lambda t, k: Call(
        path={"client_pk": t.clients[k].id}, json={"name": "Renamed Sync"}
    ),
    ("POST", "/v1/integration-clients/{client_pk}/secret"): lambda t, k: Call(
        path={"client_pk": t.clients[k].id}
    ),
    ("GET", "/v1/audit-events"): lambda t, k: Call(),
    ("POST", "/v1/schools/{school_id}/pupils"): lambda t, k: Call(
        path={"school_id": t.school(k).id},
        json={key: v for key, v in _new_pupil(1).items() if key != "year_group"},
    ),
    ("GET", "/v1/schools/{school_id}/pupils"): lambda t, k: Call(
        path={"school_id": t.school(k).id}
    ),
    ("GET", "/v1/pupils/{pupil_id}"): lambda t, k: Call(path={"pupil_id": t.pupils[k].id}),
    ("PATCH", "/v1/pupils/{pupil_id}"): lambda t, k: Call(
        path={"pupil_id": t.pupils[k].id}, json={"preferred_forename": "Sam"}
    ),
    ("DELETE", "/v1/pupils/{pupil_id}"): lambda t, k: Call(path={"pupil_id": t.pupils[k].id}),
    ("PUT", "/v1/pupils/{pupil_id}/enrolments/{academic_year}"): lambda t, k: Call(
        path={"pupil_id": t.pupils[k].id, "academic_year": this_year()},
        json={"year_group": "5"},
    ),
    ("GET", "/v1/schools/{school_id}/enrolments"): lambda t, k: Call(
        path={"school_id": t.school(k).id}
    ),
    ("POST", "/v1/schools/{school_id}/classes"): lambda t, k: Call(
        path={"school_id": t.school(k).id},
        json={"code": "5N", "name": "Year 5 New", "academic_year": this_year()},
    ),
    ("GET", "/v1/schools/{school_id}/classes"): lambda t, k: Call(
        path={"school_id": t.school(k).id}
    ),
    ("GET", "/v1/classes/{class_id}"): lambda t, k: Call(path={"class_id": t.classes[k].id}),
    ("PATCH", "/v1/classes/{class_id}"): lambda t, k: Call(
        path={"class_id": t.classes[k].id}, json={"name": "Year 4 Renamed"}
    ),
    ("POST", "/v1/schools/{school_id}/groups"): lambda t, k: Call(
        path={"school_id": t.school(k).id}, json={"name": "New group"}
    ),
    ("GET", "/v1/schools/{school_id}/groups"): lambda t, k: Call(
        path={"school_id": t.school(k).id}
    ),
    ("GET", "/v1/groups/{group_id}"): lambda t, k: Call(path={"group_id": t.groups[k].id}),
    ("PATCH", "/v1/groups/{group_id}"): lambda t, k: Call(
        path={"group_id": t.groups[k].id}, json={"name": "Renamed group"}
    ),
    ("DELETE", "/v1/groups/{group_id}"): lambda t, k: Call(path={"group_id": t.groups[k].id}),
    ("POST", "/v1/schools/{school_id}/roster/sync"): lambda t, k: Call(
        path={"school_id": t.school(k).id}, json=_sync_body(t, k)
    ),
    ("POST", "/v1/trusts/{trust_id}/roster/sync"): lambda t, k: Call(
        path={"trust_id": t.trust(k).id}, json=_sync_body(t, k)
    ),
    ("POST", "/v1/schools/{school_id}/imports/ctf"): lambda t, k: _import(t, k, "ctf"),
    ("POST", "/v1/schools/{school_id}/imports/oneroster"): lambda t, k: _import(t, k, "oneroster"),
    ("GET", "/v1/import-jobs/{job_id}"): lambda t, k: Call(path={"job_id": t.jobs[k].id}),
    ("POST", "/v1/subjects"): lambda t, k: Call(
        json={"name": "Science", "code": "SC", **t.scope(k)}
    ),
    ("GET", "/v1/subjects"): _school_filter,
    ("GET", "/v1/subjects/{subject_id}"): lambda t, k: Call(
        path={"subject_id": t.definitions[k].subject.id}
    ),
    ("PATCH", "/v1/subjects/{subject_id}"): lambda t, k: Call(
        path={"subject_id": t.definitions[k].subject.id}, json={"name": "Maths"}
    ),
    ("POST", "/v1/scales"): lambda t, k: Call(json=_new_scale(t, k)),
    ("GET", "/v1/scales"): _school_filter,
    ("GET", "/v1/scales/{scale_id}"): lambda t, k: Call(
        path={"scale_id": t.definitions[k].scale.id}
    ),
    ("PATCH", "/v1/scales/{scale_id}"): lambda t, k: Call(
        path={"scale_id": t.definitions[k].scale.id}, json={"name": "Depth (renamed)"}
    ),
    ("POST", "/v1/measures"): lambda t, k: Call(json=_new_measure(t, k)),
    ("GET", "/v1/measures"): _school_filter,
    ("GET", "/v1/measures/{measure_id}"): lambda t, k: Call(
        path={"measure_id": t.definitions[k].measure.id}
    ),
    ("PATCH", "/v1/measures/{measure_id}"): lambda t, k: Call(
        path={"measure_id": t.definitions[k].measure.id}, json={"name": "Scaled score"}
    ),
    ("POST", "/v1/frameworks"): lambda t, k: Call(json=_new_framework(t, k)),
    ("GET", "/v1/frameworks"): _school_filter,
    ("GET", "/v1/frameworks/{framework_id}"): lambda t, k: Call(
        path={"framework_id": t.definitions[k].framework.id}
    ),
    ("PATCH", "/v1/frameworks/{framework_id}"): lambda t, k: Call(
        path={"framework_id": t.definitions[k].framework.id},
        json={"description": "Our year 4 maths."},
    ),
    ("GET", "/v1/frameworks/{framework_id}/objectives"): lambda t, k: Call(
        path={"framework_id": t.definitions[k].framework.id}
    ),
    ("POST", "/v1/frameworks/{framework_id}/objectives"): lambda t, k: _objectives(
        t, k, replace=False
    ),
    ("PUT", "/v1/frameworks/{framework_id}/objectives"): lambda t, k: _objectives(
        t, k, replace=True
    ),
    ("GET", "/v1/objectives/{objective_id}"): lambda t, k: Call(
        path={"objective_id": t.definitions[k].objectives[0].id}
    ),
    ("PATCH", "/v1/objectives/{objective_id}"): lambda t, k: Call(
        path={"objective_id": t.definitions[k].objectives[0].id},
        json={"statement": "Count in multiples of 6, 7, 9, 25 and 1 000."},
    ),
    ("POST", "/v1/frameworks/imports/csv"): lambda t, k: _framework_import(t, k, "csv"),
    ("POST", "/v1/frameworks/imports/case"): lambda t, k: _framework_import(t, k, "case"),
    ("POST", "/v1/schools/{school_id}/starter-pack"): lambda t, k: Call(
        path={"school_id": t.school(k).id}
    ),
    ("GET", "/v1/schools/{school_id}/markbook"): lambda t, k: Call(
        path={"school_id": t.school(k).id},
        query={"class_id": str(t.classes[k].id), "subject_id": str(t.definitions[k].subject.id)},
    ),
    ("POST", "/v1/schools/{school_id}/markbook"): lambda t, k: Call(
        path={"school_id": t.school(_school_key(k)).id},
        json={"cells": [_cell(t, k)]},
    ),
    ("POST", "/v1/schools/{school_id}/values"): lambda t, k: Call(
        path={"school_id": t.school(_school_key(k)).id},
        json={
            "assessment_point_id": str(t.point(_school_key(k)).id),
            "values": [
                {
                    "pupil_id": str(t.pupils[k].id),
                    "measure_id": str(t.definitions[_school_key(k)].measure.id),
                    "value": 104,
                }
            ],
        },
    ),
    ("POST", "/v1/schools/{school_id}/values/imports"): lambda t, k: _score_import(t, k),
    ("POST", "/v1/schools/{school_id}/values/imports/columns"): lambda t, k: Call(
        path={"school_id": t.school(k).id},
        files={"file": ("scores.csv", _score_file(t, k), "text/csv")},
    ),
    ("GET", "/v1/schools/{school_id}/values"): lambda t, k: Call(
        path={"school_id": t.school(k).id}
    ),
    ("GET", "/v1/pupils/{pupil_id}/values/history"): lambda t, k: Call(
        path={"pupil_id": t.pupils[k].id}
    ),
    ("GET", "/v1/pupils/{pupil_id}/record"): lambda t, k: Call(path={"pupil_id": t.pupils[k].id}),
    ("GET", "/v1/pupils/{pupil_id}/judgements"): lambda t, k: Call(
        path={"pupil_id": t.pupils[k].id}
    ),
    ("GET", "/v1/pupils/{pupil_id}/subject-access"): lambda t, k: Call(
        path={"pupil_id": t.pupils[k].id}
    ),
    ("GET", "/v1/pupils/{pupil_id}/page"): lambda t, k: Call(path={"pupil_id": t.pupils[k].id}),
    ("GET", "/v1/me/pupils"): lambda t, k: Call(),
    ("GET", "/v1/pupils/{pupil_id}/targets"): lambda t, k: Call(path={"pupil_id": t.pupils[k].id}),
    ("GET", "/v1/targets/{target_id}"): lambda t, k: Call(
        path={"target_id": t.pupil_targets[k].id}
    ),
    ("POST", "/v1/pupils/{pupil_id}/targets"): lambda t, k: Call(
        path={"pupil_id": t.pupils[k].id},
        json={"text": "Practise column addition", "due_point_id": str(t.point(_school_key(k)).id)},
    ),
    ("PATCH", "/v1/targets/{target_id}"): lambda t, k: Call(
        path={"target_id": t.pupil_targets[k].id}, json={"status": "closed"}
    ),
    ("POST", "/v1/classes/{class_id}/targets"): lambda t, k: Call(
        path={"class_id": t.classes[k].id}, json={"text": "Learn the 8 times table"}
    ),
    ("POST", "/v1/schools/{school_id}/working-years"): lambda t, k: Call(
        path={"school_id": t.school(_school_key(k)).id},
        json={
            "rows": [
                {
                    "pupil_id": str(t.pupils[k].id),
                    "subject_id": str(t.definitions[_school_key(k)].subject.id),
                    "curriculum_year": "3",
                }
            ]
        },
    ),
    ("POST", "/v1/schools/{school_id}/reports"): lambda t, k: Call(
        path={"school_id": t.school(k).id}, json={"definition": PUPILS_AT_AUTUMN}
    ),
    ("POST", "/v1/trusts/{trust_id}/reports"): lambda t, k: Call(
        path={"trust_id": t.trust(k).id}, json={"definition": PUPILS_AT_AUTUMN}
    ),
    ("POST", "/v1/schools/{school_id}/reports/matrix-pupils"): lambda t, k: Call(
        path={"school_id": t.school(k).id}, json=_matrix_cell()
    ),
    ("GET", "/v1/schools/{school_id}/report-templates/{template_id}/report"): lambda t, k: Call(
        path={"school_id": t.school("A1" if k == "A" else k).id, "template_id": t.templates[k].id}
    ),
    ("GET", "/v1/trusts/{trust_id}/report-templates/{template_id}/report"): lambda t, k: Call(
        path={"trust_id": t.trust(k).id, "template_id": t.templates[k].id}
    ),
    ("GET", "/v1/schools/{school_id}/report-templates/{template_id}/charts/{chart}"): lambda t, k: (
        Call(
            path={
                "school_id": t.school("A1" if k == "A" else k).id,
                "template_id": t.templates[k].id,
                "chart": 0,
            }
        )
    ),
    ("GET", "/v1/trusts/{trust_id}/report-templates/{template_id}/charts/{chart}"): lambda t, k: (
        Call(path={"trust_id": t.trust(k).id, "template_id": t.templates[k].id, "chart": 0})
    ),
    ("POST", "/v1/report-templates"): lambda t, k: Call(
        json={"code": "NEW", "name": "New report", "definition": PUPILS_AT_AUTUMN, **t.scope(k)}
    ),
    ("GET", "/v1/report-templates"): _school_filter,
    ("GET", "/v1/report-templates/{template_id}"): lambda t, k: Call(
        path={"template_id": t.templates[k].id}
    ),
    ("PATCH", "/v1/report-templates/{template_id}"): lambda t, k: Call(
        path={"template_id": t.templates[k].id}, json={"name": "Renamed report"}
    ),
    ("GET", "/v1/report-templates/{template_id}/versions"): lambda t, k: Call(
        path={"template_id": t.templates[k].id}
    ),
}


# --- Where the app does not (yet) do what the matrix says ------------------------------------
# (method, path, target, principal): why. Each runs as a strict xfail, so fixing the app makes
# the case fail until its entry here is removed.
KNOWN_GAPS: dict[tuple[str, str, str, str], str] = {}


# --- Cases -----------------------------------------------------------------------------------
def expected_statuses(row: str) -> dict[str, int]:
    statuses = [int(cell) for cell in row.split()]
    assert len(statuses) == len(COLUMNS), f"row {row!r} has {len(statuses)} cells"
    return dict(zip(COLUMNS, statuses, strict=True))


def _cases() -> list[Any]:
    cases = []
    for (method, path), rows in MATRIX.items():
        for target, row in rows.items():
            where = "" if target == "-" else f" @{target}"
            for principal, status in expected_statuses(row).items():
                gap = KNOWN_GAPS.get((method, path, target, principal))
                cases.append(
                    pytest.param(
                        method,
                        path,
                        target,
                        principal,
                        status,
                        id=f"{method} {path}{where} [{principal}]",
                        marks=[pytest.mark.xfail(strict=True, reason=gap)] if gap else [],
                    )
                )
    return cases


CASES = _cases()


def _changes_data(case: Any) -> bool:
    """A write that should succeed changes what is stored, so it needs a world of its own;
    every other case (reads, refused writes) runs on one shared world."""
    method, _, _, _, expected = case.values
    return method in WRITE_METHODS and expected < 400


FRESH_CASES = [case for case in CASES if _changes_data(case)]
SHARED_CASES = [case for case in CASES if not _changes_data(case)]


# The cases below that take ``client`` and ``targets`` start from the world with its targets,
# copied from the one seeded per worker rather than built again for each case.
@pytest.fixture
def database_url(databases: TestDatabases) -> Iterator[str]:
    seeded_targets(databases)
    url = databases.fresh(TARGETS_SEED)
    yield url
    databases.release(url)


@pytest.fixture
def targets(databases: TestDatabases) -> Targets:
    return seeded_targets(databases)


def _url(path: str, call: Call) -> str:
    return path.format(**{name: str(value) for name, value in call.path.items()})


@pytest.mark.parametrize(("method", "path", "target", "principal", "expected"), FRESH_CASES)
async def test_access(
    method: str,
    path: str,
    target: str,
    principal: str,
    expected: int,
    client: httpx.AsyncClient,
    targets: Targets,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    await _check(method, path, target, principal, expected, client, targets, stored)


@pytest.mark.parametrize(("method", "path", "target", "principal", "expected"), SHARED_CASES)
async def test_access_changing_nothing(
    method: str, path: str, target: str, principal: str, expected: int, shared: Shared
) -> None:
    await _check(
        method, path, target, principal, expected, shared.client, shared.targets, shared.stored
    )


async def _check(
    method: str,
    path: str,
    target: str,
    principal: str,
    expected: int,
    client: httpx.AsyncClient,
    targets: Targets,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    call = REQUESTS[(method, path)](targets, target)
    url = _url(path, call)
    caller = None if principal == "anonymous" else principal
    context = f"{method} {url} ({path} @{target}) as {principal}"
    is_write = method in WRITE_METHODS

    # A write that should be refused must change nothing. (One that should succeed fails
    # the test below if it is refused, whatever it changed.)
    before = await stored() if is_write and expected >= 400 else None
    response = await call.send(client, method, url, targets.world.headers(caller))
    actual = response.status_code
    if before is not None and actual >= 400:
        assert_unchanged(before, await stored(), context)
    if actual >= 400:
        assert_problem(response, actual, context)
    if actual == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), context

    assert actual == expected, (
        f"{context}: expected {expected}, got {actual}: {response.text[:300]}"
    )
    last = path.rsplit("/", 1)[-1]
    is_json = response.headers.get("content-type", "").startswith("application/json")
    if actual == 200 and method in ("GET", "PATCH") and last.startswith("{") and is_json:
        shown = response.json().get("id")
        asked = call.path[last.strip("{}")]
        assert last == "{start_year}" or shown == str(asked), f"{context}: answered with {shown}"


# --- The matrix covers the app, all of it and nothing else -----------------------------------
def api_routes(app: FastAPI) -> set[Route]:
    """(method, path) of every APIRoute the app serves, however routers are nested.

    FastAPI >= 0.137 keeps included routers as opaque entries in ``app.routes``; its own
    ``iter_route_contexts`` (what the OpenAPI generator uses) yields each route with its full
    path. Older versions list every route flat in ``app.routes``.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI
        entries = [(route, route) for route in app.routes]
    else:
        entries = [(ctx.original_route, ctx) for ctx in iter_route_contexts(app.routes)]
    found: set[Route] = set()
    for original, effective in entries:
        if not isinstance(original, APIRoute) or effective.path in DOCS_PATHS | GRAPHQL_PATHS:
            continue
        found |= {(method, effective.path) for method in effective.methods or ()}
    return found


def test_matrix_has_a_column_for_every_principal() -> None:
    assert set(COLUMNS) == {"anonymous", *PRINCIPALS}, (
        "the world's principals changed: add or remove matrix columns to match: "
        f"missing {sorted({'anonymous', *PRINCIPALS} - set(COLUMNS))}, "
        f"extra {sorted(set(COLUMNS) - {'anonymous', *PRINCIPALS})}"
    )
    for route, rows in MATRIX.items():
        for target, row in rows.items():
            assert len(row.split()) == len(COLUMNS), f"{route} @{target}: wrong number of cells"


def test_every_route_has_matrix_rows(app: FastAPI) -> None:
    routes = api_routes(app)
    # The enumeration must not go quiet: it sees at least what the OpenAPI document shows.
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert ("GET", "/healthz") in routes, f"route enumeration looks broken: {sorted(routes)}"
    assert documented <= routes, f"routes missed by api_routes(): {sorted(documented - routes)}"
    missing = routes - MATRIX.keys()
    assert not missing, f"routes without access-matrix rows: {sorted(missing)}"


def test_matrix_names_only_existing_routes(app: FastAPI) -> None:
    stale = MATRIX.keys() - api_routes(app)
    assert not stale, f"matrix rows for routes the app no longer has: {sorted(stale)}"


def test_every_matrix_route_has_a_request() -> None:
    assert MATRIX.keys() == REQUESTS.keys(), (
        f"rows without a request: {sorted(MATRIX.keys() - REQUESTS.keys())}; "
        f"requests without rows: {sorted(REQUESTS.keys() - MATRIX.keys())}"
    )


def test_known_gaps_name_matrix_cases() -> None:
    cases = {tuple(case.values[:4]) for case in CASES}
    stale = KNOWN_GAPS.keys() - cases
    assert not stale, f"known gaps that are not matrix cases: {sorted(stale)}"


# --- Out of reach looks exactly like missing -------------------------------------------------
# For each route with an id in its path: the school leader of A1 asking for the B1 (or trust
# B) object gets the very problem it gets for an id that exists nowhere.
NOT_THERE = uuid.UUID("00000000-0000-4000-8000-000000000000")
_ID_ROUTES = [
    (method, path, target)
    for (method, path), rows in MATRIX.items()
    if "_id}" in path or "_pk}" in path
    for target in rows
    if target in ("B", "B1")
]


def _is_id(name: str) -> bool:
    return name.endswith(("_id", "_pk"))


@pytest.mark.parametrize(
    ("method", "path", "target"), _ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in _ID_ROUTES]
)
async def test_out_of_reach_looks_like_missing(
    method: str,
    path: str,
    target: str,
    client: httpx.AsyncClient,
    targets: Targets,
) -> None:
    call = REQUESTS[(method, path)](targets, target)
    headers = targets.world.headers("school_leader")
    real = await call.send(client, method, _url(path, call), headers)
    invented = {name: NOT_THERE if _is_id(name) else value for name, value in call.path.items()}
    fake = await call.send(client, method, _url(path, Call(path=invented)), headers)

    def shown(response: httpx.Response) -> tuple[Any, ...]:
        body = assert_problem(response, 404, f"{method} {path}")
        return response.status_code, body["type"], body["title"], body["detail"]

    assert shown(real) == shown(fake), f"{method} {path}: out of reach differs from missing"


# Body references out of reach answer like ids that exist nowhere, too.
@dataclass(frozen=True)
class BodyReference:
    """``principal`` sends ``call``, whose body names something out of its reach (the string
    ``out_of_reach``); sent naming ``missing`` instead, the answer must be the same 422."""

    route: Route
    principal: str
    call: Callable[[Targets], Call]
    out_of_reach: Callable[[Targets], str]
    missing: str = str(NOT_THERE)

    @property
    def id(self) -> str:
        return f"{self.route[0]} {self.route[1]} [{self.principal}]"


def _as_matrix(route: Route, key: str) -> Callable[[Targets], Call]:
    return lambda t: REQUESTS[route](t, key)


def _new_class_naming(field: str, value: Callable[[Targets], uuid.UUID]) -> Callable[..., Call]:
    return lambda t: Call(
        path={"school_id": t.school("A1").id},
        json={
            "code": "5N",
            "name": "Year 5 New",
            "academic_year": this_year(),
            field: [str(value(t))],
        },
    )


_BODY_REFERENCES = [
    BodyReference(
        ("POST", "/v1/schools"),
        "trust_admin",
        _as_matrix(("POST", "/v1/schools"), "B"),
        lambda t: str(t.trust("B").id),
    ),
    BodyReference(
        ("POST", "/v1/users"),
        "school_leader",
        _as_matrix(("POST", "/v1/users"), "B1"),
        lambda t: str(t.school("B1").id),
    ),
    BodyReference(
        ("POST", "/v1/integration-clients"),
        "school_leader",
        _as_matrix(("POST", "/v1/integration-clients"), "B1"),
        lambda t: str(t.school("B1").id),
    ),
    # A1's class, with a pupil or teacher of B1.
    BodyReference(
        ("POST", "/v1/schools/{school_id}/classes"),
        "school_leader",
        _new_class_naming("pupil_ids", lambda t: t.pupils["B1"].id),
        lambda t: str(t.pupils["B1"].id),
    ),
    BodyReference(
        ("POST", "/v1/schools/{school_id}/classes"),
        "school_leader",
        _new_class_naming("teacher_ids", lambda t: t.users["B1"].id),
        lambda t: str(t.users["B1"].id),
    ),
    BodyReference(
        ("PATCH", "/v1/groups/{group_id}"),
        "school_leader",
        lambda t: Call(
            path={"group_id": t.groups["A1"].id}, json={"pupil_ids": [str(t.pupils["B1"].id)]}
        ),
        lambda t: str(t.pupils["B1"].id),
    ),
    # New definitions whose owner is out of reach: B1 for A1's leader and trust A's admin, A1
    # for A2's leader (same trust, another school).
    BodyReference(
        ("POST", "/v1/subjects"),
        "school_leader",
        _as_matrix(("POST", "/v1/subjects"), "B1"),
        lambda t: str(t.school("B1").id),
    ),
    BodyReference(
        ("POST", "/v1/scales"),
        "trust_admin",
        _as_matrix(("POST", "/v1/scales"), "B1"),
        lambda t: str(t.school("B1").id),
    ),
    BodyReference(
        ("POST", "/v1/measures"),
        "other_school_leader",
        _as_matrix(("POST", "/v1/measures"), "A1"),
        lambda t: str(t.school("A1").id),
    ),
    BodyReference(
        ("POST", "/v1/frameworks"),
        "other_trust_admin",
        _as_matrix(("POST", "/v1/frameworks"), "A"),
        lambda t: str(t.trust("A").id),
    ),
    # A1's new measure or framework on B1's scale or subject; trust A's on A1's scale (which
    # trust A's admin sees, but which is not shared with the trust): no such scale for it.
    BodyReference(
        ("POST", "/v1/measures"),
        "school_leader",
        lambda t: Call(
            json={**_new_measure(t, "A1"), "scale_id": str(t.definitions["B1"].scale.id)}
        ),
        lambda t: str(t.definitions["B1"].scale.id),
    ),
    BodyReference(
        ("POST", "/v1/measures"),
        "trust_admin",
        lambda t: Call(
            json={**_new_measure(t, "A"), "scale_id": str(t.definitions["A1"].scale.id)}
        ),
        lambda t: str(t.definitions["A1"].scale.id),
    ),
    BodyReference(
        ("POST", "/v1/frameworks"),
        "school_leader",
        lambda t: Call(
            json={**_new_framework(t, "A1"), "subject_id": str(t.definitions["B1"].subject.id)}
        ),
        lambda t: str(t.definitions["B1"].subject.id),
    ),
    # A2's leader syncing trust A, naming school A1 (whose roster it may not write) by URN.
    BodyReference(
        ("POST", "/v1/trusts/{trust_id}/roster/sync"),
        "other_school_leader",
        _as_matrix(("POST", "/v1/trusts/{trust_id}/roster/sync"), "A"),
        lambda t: t.school("A1").urn,
        missing="199999",
    ),
]


@pytest.mark.parametrize("reference", _BODY_REFERENCES, ids=[r.id for r in _BODY_REFERENCES])
async def test_out_of_reach_body_reference_looks_like_missing(
    reference: BodyReference,
    client: httpx.AsyncClient,
    targets: Targets,
    stored: Callable[[], Awaitable[Snapshot]],
) -> None:
    method, path = reference.route
    call = reference.call(targets)
    url = _url(path, call)
    headers = targets.world.headers(reference.principal)
    before = await stored()
    real = await call.send(client, method, url, headers)
    fake_json = _replace_strings(call.json, reference.out_of_reach(targets), reference.missing)
    assert fake_json != call.json, f"{reference.id}: the body does not name the reference"
    fake = await Call(json=fake_json).send(client, method, url, headers)

    def shown(response: httpx.Response) -> tuple[Any, ...]:
        body = assert_problem(response, response.status_code, f"{method} {path}")
        return response.status_code, body["type"], body["detail"], body.get("errors")

    assert real.status_code == 422, f"{method} {path}: {real.status_code} {real.text[:300]}"
    assert shown(real) == shown(fake), f"{method} {path}: out of reach differs from missing"
    assert_unchanged(before, await stored(), reference.id)


def _replace_strings(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _replace_strings(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, old, new) for v in value]
    return new if value == old else value


# --- GraphQL: every root field (and the fields under it that the policy decides) -------------
# What each caller gets, as a shape: 401 (no token: refused, as REST), "obj" (the thing, or a
# list with something in it), "[]" (an empty list: nothing of it in reach), "null" (out of
# reach, exactly as if it did not exist; never an error). Rows for reports mirror REST's
# REPORT_A1 and REPORT_A (test_graphql_reports_agree_with_rest).
GRAPHQL_QUERIES: dict[str, str] = {
    "me": "{ me { id } }",
    "trust": "query ($id: UUID!) { trust(id: $id) { id } }",
    "trust.schools": (
        "query ($id: UUID!) { trust(id: $id) { schools { edges { node { id } } } } }"
    ),
    "trust.report": (
        "query ($id: UUID!, $d: ReportDefinitionInput!) "
        "{ trust(id: $id) { report(definition: $d) { title } } }"
    ),
    "trust.reportTemplates": "query ($id: UUID!) { trust(id: $id) { reportTemplates { id } } }",
    "trust.reportTemplates.run": (
        "query ($id: UUID!) { trust(id: $id) { reportTemplates { run { title } } } }"
    ),
    "school": "query ($id: UUID!) { school(id: $id) { id } }",
    "school.assessmentPoints": "query ($id: UUID!) { school(id: $id) { assessmentPoints { id } } }",
    "school.classes": (
        "query ($id: UUID!) { school(id: $id) { classes { edges { node { id } } } } }"
    ),
    "school.classes.pupils": (
        "query ($id: UUID!) { school(id: $id) "
        "{ classes { edges { node { pupils { edges { node { id } } } } } } } }"
    ),
    "school.report": (
        "query ($id: UUID!, $d: ReportDefinitionInput!) "
        "{ school(id: $id) { report(definition: $d) { title } } }"
    ),
    "school.reportTemplates": "query ($id: UUID!) { school(id: $id) { reportTemplates { id } } }",
    "school.reportTemplates.run": (
        "query ($id: UUID!) { school(id: $id) { reportTemplates { run { title } } } }"
    ),
    "school.subjects.frameworks": (
        "query ($id: UUID!) { school(id: $id) { subjects { frameworks { id } } } }"
    ),
    "school.scales": "query ($id: UUID!) { school(id: $id) { scales { id } } }",
    "school.measures": "query ($id: UUID!) { school(id: $id) { measures { id } } }",
    "pupil": "query ($id: UUID!) { pupil(id: $id) { id } }",
    "pupil.enrolments": "query ($id: UUID!) { pupil(id: $id) { enrolments { academicYear } } }",
    "pupil.classes": "query ($id: UUID!) { pupil(id: $id) { classes { id } } }",
    "pupil.groups": "query ($id: UUID!) { pupil(id: $id) { groups { id } } }",
    "pupil.workingYears": (
        "query ($id: UUID!) { pupil(id: $id) { workingYears { subjectId isSet } } }"
    ),
    "pupil.cells": (
        "query ($id: UUID!, $subject: UUID!) "
        "{ pupil(id: $id) { cells(subjectId: $subject) { descriptorCode } } }"
    ),
    "pupil.judgements": (
        "query ($id: UUID!, $objective: UUID!) "
        "{ pupil(id: $id) { judgements(objectiveId: $objective) { id } } }"
    ),
    "pupil.values": "query ($id: UUID!) { pupil(id: $id) { values { measureCode } } }",
    "pupil.page": "query ($id: UUID!) { pupil(id: $id) { page { subjects { subject } } } }",
    "pupil.targets": "query ($id: UUID!) { pupil(id: $id) { targets { status } } }",
}
GRAPHQL_SCHOOL_A1 = "401  obj  obj  obj  obj  obj  obj  obj  obj  null null obj  obj"
GRAPHQL_OUT_B = "401  obj  null null null null null null null null obj  null null"
GRAPHQL_CLASSES_A1 = "401  obj  obj  obj  obj  obj  []   []   []   null null obj  obj"
# A1's definitions and trust A's, read by all of A1's people; the roster:read client reads the
# school but holds no definition rights (as DEF_READ_A1).
GRAPHQL_DEFINITIONS_A1 = "401  obj  obj  obj  obj  obj  obj  obj  obj  null null obj  []"
# fmt: off
# A pupil: their roster (enrolments, classes, groups) as GET /v1/pupils/{id} gives it; their
# record (working years, cells, judgements, values) as GET /v1/pupils/{id}/record gives it
# (the target pupils have no judgements or values, and "A1-untaught" is in no class or group
# and not enrolled: "[]" where the caller may read them). The pupil is there for whoever
# reaches either (test_graphql_pupils_agree_with_rest).
GRAPHQL_PUPIL_ROSTER = {
    "A1": GRAPHQL_CLASSES_A1.replace("[]  ", "null"),
    "A1-untaught":          "401  []   []   []   []   null null null null null null []   []",
    "B1": GRAPHQL_OUT_B,
}
GRAPHQL_PUPIL_YEARS = {
    "A1":                   "401  obj  obj  obj  obj  obj  null obj  obj  null null obj  null",
    "A1-untaught":          "401  obj  obj  obj  obj  null null null null null null obj  null",
    "B1": GRAPHQL_OUT_B,
}
GRAPHQL_PUPIL_RECORD = {
    target: row.replace("obj", "[] ") for target, row in GRAPHQL_PUPIL_YEARS.items()
}
GRAPHQL_MATRIX: dict[str, dict[str, str]] = {
    #                         anon sys  tadm tana lead tchr gov  pupl prnt A2ld Btad int  intR
    "me": {"-":             "401  obj  obj  obj  obj  obj  obj  obj  obj  obj  obj  obj  obj"},
    "trust": {
        "A":                "401  obj  obj  obj  obj  obj  obj  null null obj  null obj  obj",
        "B": GRAPHQL_OUT_B,
    },
    "trust.schools": {
        "A":                "401  obj  obj  obj  obj  obj  obj  null null obj  null obj  obj",
        "B": GRAPHQL_OUT_B,
    },
    "trust.report": {
        "A":                "401  obj  obj  obj  obj  obj  obj  null null obj  null obj  null",
        "B": GRAPHQL_OUT_B,
    },
    # Templates: whoever reads the owner's definitions or runs its reports (as REST's list);
    # each runs where its reports run. Trust A's own: its template, read by its schools' people.
    "trust.reportTemplates": {
        "A":                "401  obj  obj  obj  obj  obj  obj  null null obj  null obj  null",
        "B": GRAPHQL_OUT_B,
    },
    "trust.reportTemplates.run": {
        "A":                "401  obj  obj  obj  obj  obj  obj  null null obj  null obj  null",
        "B": GRAPHQL_OUT_B,
    },
    "school": {"A1": GRAPHQL_SCHOOL_A1, "B1": GRAPHQL_OUT_B},
    "school.assessmentPoints": {"A1": GRAPHQL_SCHOOL_A1, "B1": GRAPHQL_OUT_B},
    "school.classes": {"A1": GRAPHQL_CLASSES_A1, "B1": GRAPHQL_OUT_B},
    "school.classes.pupils": {"A1": GRAPHQL_CLASSES_A1, "B1": GRAPHQL_OUT_B},
    "school.report": {
        "A1":               "401  obj  obj  obj  obj  obj  obj  null null null null obj  null",
        "B1": GRAPHQL_OUT_B,
    },
    # A1's templates and trust A's (as DEF_LIST_A1); pupils and parents read them, run none.
    "school.reportTemplates": {
        "A1":               "401  obj  obj  obj  obj  obj  obj  obj  obj  null null obj  null",
        "B1": GRAPHQL_OUT_B,
    },
    "school.reportTemplates.run": {
        "A1":               "401  obj  obj  obj  obj  obj  obj  []   []   null null obj  null",
        "B1": GRAPHQL_OUT_B,
    },
    "school.subjects.frameworks": {"A1": GRAPHQL_DEFINITIONS_A1, "B1": GRAPHQL_OUT_B},
    "school.scales": {"A1": GRAPHQL_DEFINITIONS_A1, "B1": GRAPHQL_OUT_B},
    "school.measures": {"A1": GRAPHQL_DEFINITIONS_A1, "B1": GRAPHQL_OUT_B},
    "pupil": {
        "A1":               "401  obj  obj  obj  obj  obj  null obj  obj  null null obj  obj",
        "A1-untaught":      "401  obj  obj  obj  obj  null null null null null null obj  obj",
        "B1": GRAPHQL_OUT_B,
    },
    "pupil.enrolments": GRAPHQL_PUPIL_ROSTER,
    "pupil.classes": GRAPHQL_PUPIL_ROSTER,
    "pupil.groups": GRAPHQL_PUPIL_ROSTER,
    "pupil.workingYears": GRAPHQL_PUPIL_YEARS,
    "pupil.cells": GRAPHQL_PUPIL_RECORD,
    "pupil.judgements": GRAPHQL_PUPIL_RECORD,
    "pupil.values": GRAPHQL_PUPIL_RECORD,
    # The page and targets as REST's: the target pupils each have a target (in words).
    "pupil.page": GRAPHQL_PUPIL_YEARS,
    "pupil.targets": GRAPHQL_PUPIL_YEARS,
}
# fmt: on


def _shape(value: Any) -> str:
    """The shape of an answer along its path: null if anything on the way is null, else []
    if every list at the end is empty, else obj."""
    if value is None:
        return "null"
    if isinstance(value, list):
        shapes = [_shape(item) for item in value]
        return "obj" if "obj" in shapes else "[]"
    if isinstance(value, dict) and len(value) == 1:
        return _shape(next(iter(value.values())))
    return "obj"


def _graphql_cases() -> list[Any]:
    return [
        pytest.param(
            field_, target, principal, shape, id=f"graphql {field_} @{target} [{principal}]"
        )
        for field_, rows in GRAPHQL_MATRIX.items()
        for target, row in rows.items()
        for principal, shape in zip(COLUMNS, row.split(), strict=True)
    ]


@pytest.mark.parametrize(("field_", "target", "principal", "expected"), _graphql_cases())
async def test_graphql_access(
    field_: str, target: str, principal: str, expected: str, shared: Shared
) -> None:
    targets = shared.targets
    variables: dict[str, Any] = {"d": graphql_definition(PUPILS_AT_AUTUMN)}
    if field_.startswith("pupil"):
        # A pupil, and their school's subject and objective.
        definitions = targets.definitions[target.split("-")[0]]
        variables["id"] = str(targets.pupils[target].id)
        variables["subject"] = str(definitions.subject.id)
        variables["objective"] = str(definitions.objectives[0].id)
    elif target in targets.world.trusts:
        variables["id"] = str(targets.trust(target).id)
    elif target in targets.world.schools:
        variables["id"] = str(targets.school(target).id)
    caller = None if principal == "anonymous" else principal
    response = await shared.client.post(
        GRAPHQL_PATH,
        json={"query": GRAPHQL_QUERIES[field_], "variables": variables},
        headers=targets.world.headers(caller),
    )
    context = f"graphql {field_} @{target} as {principal}"
    if expected == "401":
        assert response.status_code == 401, context
        assert_problem(response, 401, context)
        return
    assert response.status_code == 200, f"{context}: {response.text[:300]}"
    answer = response.json()
    assert "errors" not in answer, f"{context}: {answer['errors']}"
    assert _shape(answer["data"]) == expected, f"{context}: {answer['data']}"


def test_graphql_matrix_covers_every_root_field() -> None:
    roots = set(graphql_schema._schema.query_type.fields)
    assert roots == {name for name in GRAPHQL_MATRIX if "." not in name}
    assert GRAPHQL_MATRIX.keys() == GRAPHQL_QUERIES.keys()


def test_graphql_reports_agree_with_rest() -> None:
    shapes = {"401": "401", "200": "obj", "404": "null"}
    for field_, route, target in (
        ("school.report", ("POST", "/v1/schools/{school_id}/reports"), "A1"),
        ("trust.report", ("POST", "/v1/trusts/{trust_id}/reports"), "A"),
    ):
        rest = " ".join(shapes[cell] for cell in MATRIX[route][target].split())
        assert " ".join(GRAPHQL_MATRIX[field_][target].split()) == rest, field_


def test_graphql_pupils_agree_with_rest() -> None:
    """A pupil's roster over GraphQL is there for exactly those REST gives the pupil to, their
    record for exactly those it gives the record to, and the pupil for either."""
    shapes = {"401": "401", "200": "obj", "404": "null"}

    def rest(route: Route, target: str) -> list[str]:
        return [shapes[cell] for cell in MATRIX[route][target].split()]

    def graphql(field_: str, target: str) -> list[str]:
        return [cell.replace("[]", "obj") for cell in GRAPHQL_MATRIX[field_][target].split()]

    for target in ("A1", "A1-untaught", "B1"):
        roster = rest(("GET", "/v1/pupils/{pupil_id}"), target)
        record = rest(("GET", "/v1/pupils/{pupil_id}/record"), target)
        for field_ in ("pupil.enrolments", "pupil.classes", "pupil.groups"):
            assert graphql(field_, target) == roster, (field_, target)
        for field_ in ("pupil.workingYears", "pupil.cells", "pupil.judgements", "pupil.values"):
            assert graphql(field_, target) == record, (field_, target)
        for field_, route in (
            ("pupil.page", ("GET", "/v1/pupils/{pupil_id}/page")),
            ("pupil.targets", ("GET", "/v1/pupils/{pupil_id}/targets")),
        ):
            assert graphql(field_, target) == rest(route, target), (field_, target)
        either = [b if a == "null" else a for a, b in zip(roster, record, strict=True)]
        assert graphql("pupil", target) == either, target


def test_graphql_is_served_and_only_by_post(app: FastAPI) -> None:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    methods = {m for c in contexts if c.path == GRAPHQL_PATH for m in (c.methods or ())}
    assert "POST" in methods, methods
