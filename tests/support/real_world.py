"""Roster and framework files in the shapes schools really receive (issue 16), written by hand
as vendors' exports write them rather than through the tidy builders of files.py:

- a OneRoster 1.1 set without demographics.csv (and without roles.csv: 1.1 has none; users
  carry their role, and orgSourcedIds rather than a primary org), one user a teacher who is
  also enrolled as a student in a class;
- a OneRoster 1.2 delta whose users have no grades (their classes' grades, or the import's
  year group, say where they are);
- a set with an empty field after the last column on every line, a blank column name at the
  end of a header, a header-only file, a byte order mark and CRLF line ends;
- a first import whose teachers have no Markbook accounts yet;
- a CASE package whose items give their grades as educationalLevel (a list or a string).
"""

from __future__ import annotations

import json
from typing import Any

from app.domain.pupils import make_upn
from tests.support.files import DEST_URN, zip_members

UPNS = [make_upn(f"8012000250{index:02d}") for index in range(1, 10)]


def _csv(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def _manifest(version: str, modes: dict[str, str]) -> str:
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    lines += [f"file.{name},{mode}" for name, mode in modes.items()]
    lines += ["source.systemName,Vendor SIS", "source.systemCode,vendor"]
    return _csv(*lines)


ORGS_11 = _csv(
    "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "district-1,,,Sample District,district,,",
    f"school-1,,,Sample Primary,school,{DEST_URN},district-1",
)
SESSIONS = _csv(
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "sy-2026,,,2025/26,schoolYear,2025-09-01,2026-08-31,,2026",
)


def oneroster_11_without_demographics(teacher_email: str) -> bytes:
    """OneRoster 1.1: users.csv holds each user's role and orgSourcedIds; no roles.csv and no
    demographics.csv. ``teacher_email`` teaches 5B; Ms Teacher (t-2) is also enrolled as a
    student in it (as LMSs do to let a teacher see the class as its pupils do)."""
    users = _csv(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
        "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
        "password",
        f"t-1,,,true,school-1,teacher,tone,,Tom,One,,,{teacher_email},,,,,",
        "t-2,,,true,school-1,teacher,ttwo,,Tess,Two,,,tess.two@vendor.example.org,,,,,",
        f"s-1,,,true,school-1,student,sone,{{UPN:{UPNS[0]}}},Sam,Ayres,,,,,,,05,",
        "s-2,,,true,school-1,student,stwo,,Priya,Bell,,,,,,,05,",
        f"s-3,,,true,school-1,student,sthree,,Jo,Carter,,{UPNS[2]},,,,,05,",
    )
    classes = _csv(
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
        "c-1,,,Class 5B,05,,5B,homeroom,,school-1,sy-2026,,,",
    )
    enrollments = _csv(
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate",
        "e-1,,,c-1,school-1,t-1,teacher,true,,",
        "e-2,,,c-1,school-1,s-1,student,false,,",
        "e-3,,,c-1,school-1,s-2,student,false,,",
        "e-4,,,c-1,school-1,s-3,student,false,,",
        "e-5,,,c-1,school-1,t-2,student,false,,",
    )
    modes = {
        "academicSessions": "bulk",
        "categories": "absent",
        "classes": "bulk",
        "classResources": "absent",
        "courses": "absent",
        "courseResources": "absent",
        "demographics": "absent",
        "enrollments": "bulk",
        "lineItems": "absent",
        "orgs": "bulk",
        "resources": "absent",
        "results": "absent",
        "users": "bulk",
    }
    return zip_members(
        {
            "manifest.csv": _manifest("1.1", modes),
            "orgs.csv": ORGS_11,
            "academicSessions.csv": SESSIONS,
            "users.csv": users,
            "classes.csv": classes,
            "enrollments.csv": enrollments,
        }
    )


def oneroster_12_delta_without_grades() -> bytes:
    """OneRoster 1.2 delta: three new students, none with grades. d-1 is in a Year 3 class
    and a 3/4 maths set (so Year 3), d-2 only in the 3/4 set (3 or 4: the class cannot say),
    d-3 in no class."""
    users = _csv(
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
        "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
        "preferredFamilyName,primaryOrgSourcedId,pronouns",
        "d-1,active,2025-10-01,true,done,,Ada,Day,,,,,,,,,,,,,,school-1,",
        "d-2,active,2025-10-01,true,dtwo,,Ben,Eve,,,,,,,,,,,,,,school-1,",
        "d-3,active,2025-10-01,true,dthree,,Cal,Fox,,,,,,,,,,,,,,school-1,",
    )
    classes = _csv(
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
        "k-3,active,2025-10-01,Class 3R,03,,3R,homeroom,,school-1,sy-2026,,,",
        'k-34,active,2025-10-01,Maths 3/4,"03,04",,34Ma,scheduled,,school-1,sy-2026,Maths,,',
    )
    roles = _csv(
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
        "orgSourcedId,userProfileSourcedId",
        "r-1,active,2025-10-01,d-1,primary,student,,,school-1,",
        "r-2,active,2025-10-01,d-2,primary,student,,,school-1,",
        "r-3,active,2025-10-01,d-3,primary,student,,,school-1,",
    )
    enrollments = _csv(
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate",
        "n-1,active,2025-10-01,k-3,school-1,d-1,student,false,,",
        "n-2,active,2025-10-01,k-34,school-1,d-1,student,false,,",
        "n-3,active,2025-10-01,k-34,school-1,d-2,student,false,,",
    )
    modes = {
        "academicSessions": "absent",
        "classes": "delta",
        "courses": "absent",
        "demographics": "absent",
        "enrollments": "delta",
        "orgs": "bulk",
        "roles": "delta",
        "users": "delta",
    }
    return zip_members(
        {
            "manifest.csv": _manifest("1.2", modes),
            "orgs.csv": ORGS_11,
            "users.csv": users,
            "classes.csv": classes,
            "roles.csv": roles,
            "enrollments.csv": enrollments,
        }
    )


def oneroster_with_slips() -> bytes:
    """A bulk 1.2 set as some exporters write it: every line of users.csv and enrollments.csv
    ends in a comma (an empty field past the last column), classes.csv's header ends in a
    blank column name, demographics.csv is a header and no rows, orgs.csv starts with a byte
    order mark, and lines end in CRLF."""
    users = _csv(
        "sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,"
        "identifier,email,grades,primaryOrgSourcedId",
        f"u-1,active,,true,uone,Ann,Hill,{UPNS[3]},,06,school-1,",
        f"u-2,active,,true,utwo,Bo,Ives,{UPNS[4]},,06,school-1,",
        "u-t,active,,true,teach,Terry,Jones,,terry@vendor.example.org,,school-1,",
    )
    roles = _csv(
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
        "orgSourcedId,userProfileSourcedId",
        "r-1,active,,u-1,primary,student,,,school-1,",
        "r-2,active,,u-2,primary,student,,,school-1,",
        "r-t,active,,u-t,primary,teacher,,,school-1,",
    )
    classes = _csv(
        "sourcedId,status,dateLastModified,title,classCode,schoolSourcedId,",
        "c-6,active,,Class 6H,6H,school-1,",
    )
    enrollments = _csv(
        "sourcedId,status,dateLastModified,classSourcedId,userSourcedId,role,",
        "e-1,active,,c-6,u-1,student,",
        "e-2,active,,c-6,u-2,student,",
    )
    demographics = _csv("sourcedId,status,dateLastModified,birthDate,sex")
    modes = {
        "orgs": "bulk",
        "users": "bulk",
        "roles": "bulk",
        "classes": "bulk",
        "enrollments": "bulk",
        "demographics": "bulk",
    }
    return zip_members(
        {
            "manifest.csv": _manifest("1.2", modes),
            "orgs.csv": "\ufeff" + ORGS_11,
            "users.csv": users,
            "roles.csv": roles,
            "classes.csv": classes,
            "enrollments.csv": enrollments,
            "demographics.csv": demographics,
        }
    )


def case_with_educational_level() -> bytes:
    """A CASE package as an authoring tool exports it: items' grades in educationalLevel, as
    a list or a comma-separated string of CEDS codes, one association type not read."""
    document = {
        "identifier": "doc-1",
        "title": "Reading progression",
        "creator": "Sample Authoring Tool",
        "subject": ["English"],
    }
    items: list[dict[str, Any]] = [
        {
            "identifier": "i-1",
            "humanCodingScheme": "RD",
            "fullStatement": "Reading",
            "educationalLevel": ["KG", "01"],
        },
        {
            "identifier": "i-2",
            "humanCodingScheme": "RD.1",
            "fullStatement": "Read words with common suffixes",
            "educationalLevel": "01",
        },
        {
            "identifier": "i-3",
            "humanCodingScheme": "RD.2",
            "fullStatement": "Retell a familiar story",
            "educationalLevel": "KG,01",
        },
    ]
    associations = [
        {
            "identifier": f"a-{index}",
            "associationType": "isChildOf",
            "originNodeURI": {"identifier": child},
            "destinationNodeURI": {"identifier": parent},
            "sequenceNumber": index,
        }
        for index, (child, parent) in enumerate(
            [("i-1", "doc-1"), ("i-2", "i-1"), ("i-3", "i-1")], start=1
        )
    ]
    associations.append(
        {
            "identifier": "a-x",
            "associationType": "exactMatchOf",
            "originNodeURI": {"identifier": "i-2"},
            "destinationNodeURI": {"identifier": "urn:other:framework:1"},
        }
    )
    package = {"CFDocument": document, "CFItems": items, "CFAssociations": associations}
    return json.dumps(package, indent=2).encode()
