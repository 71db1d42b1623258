"""Association rows as Remedy keeps them: one on each record, each naming the link as seen from
its own side [reference 4.4, 4.7]; a type the mapping does not know reads as other.

No recorded body holds association rows, so the pages here are built from the recorded
list_worklogs.json page (its `entries` / `values` / `_links` shape, no next link) with the row
fields integrators use on HPD:Associations [4.7]: `Request ID02` the owning ticket, `Request ID01`
the related record on `Form Name01`, `Association Type01` the link's type.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connector.entities import RecordKind, Relation
from connector.enums import RelationType
from connector.errors import ConfigurationError
from connector.filters import Field
from connector.remedy import RemedyConnector
from tests.conftest import recorded
from tests.connector.conftest import REMEDY_URL, login_ok

ENTRY = f"{REMEDY_URL}/api/arsys/v1/entry"
INCIDENT, OTHER_INCIDENT, PROBLEM = "INC000000000430", "INC000000000431", "PBI000000000402"
BASE_FORMS = {
    INCIDENT: "HPD:Help Desk",
    OTHER_INCIDENT: "HPD:Help Desk",
    PROBLEM: "PBM:Problem Investigation",
}
REQUEST_TYPES = {"HPD:Help Desk": "Incident", "PBM:Problem Investigation": "Problem Investigation"}


def row(owner: str, related: str, association_type: str) -> dict[str, Any]:
    form = BASE_FORMS[related]
    return {
        "Request ID02": owner,
        "Request ID01": related,
        "Form Name01": form,
        "Request Type01": REQUEST_TYPES[form],
        "Association Type01": association_type,
        "Request Description01": "Mail delivery delayed",
        "Status": "Enabled",
    }


def page(form: str, *rows: dict[str, Any]) -> dict[str, Any]:
    """A list answer shaped like the recorded one, holding `rows`."""
    shape = recorded("remedy", "list_worklogs.json")
    href = shape["entries"][0]["_links"]["self"][0]["href"].rsplit("/entry/", 1)[0]
    return {
        "entries": [
            {"values": values, "_links": {"self": [{"href": f"{href}/entry/{form}/{n:015d}"}]}}
            for n, values in enumerate(rows, 1)
        ],
        "numMatches": shape["numMatches"],
        "_links": {"self": [{"href": f"{href}/entry/{form}"}]},
    }


def links(remedy: RemedyConnector, within: RecordKind, owner: str) -> list[Relation]:
    return list(remedy.find(Relation, Field("source_id") == owner, within=within))


def q(call: responses.Call) -> str:
    return parse_qs(urlsplit(call.request.url).query)["q"][0]


STOCK = [
    ("Related to", RelationType.RELATED_TO),
    ("Caused By", RelationType.CAUSED_BY),
    ("Caused", RelationType.CAUSES),
    ("Duplicate of", RelationType.DUPLICATE_OF),
    ("Original of", RelationType.ORIGINAL_OF),
    ("Resolved by", RelationType.RESOLVED_BY),
    ("Resolved", RelationType.RESOLVES),
    ("Impacted CI", RelationType.IMPACTS),
    *[
        (label, RelationType.IMPACTS)
        for label in ("Impacts", "Upgrades", "Repairs", "Moves", "Installs", "Removes", "Changes")
    ],
]


@pytest.mark.parametrize(("label", "expected"), STOCK, ids=[label for label, _ in STOCK])
def test_every_stock_association_type_reads_as_a_relation_type(
    mocked: responses.RequestsMock, remedy: RemedyConnector, label: str, expected: RelationType
) -> None:
    """Each stock Association Type01 label, the reciprocal ones included, has its SMPM type."""
    login_ok(mocked)
    mocked.get(
        f"{ENTRY}/HPD:Associations", json=page("HPD:Associations", row(INCIDENT, PROBLEM, label))
    )
    (link,) = links(remedy, RecordKind.INCIDENT, INCIDENT)
    assert (link.target_kind, link.target_id, link.relation_type) == (
        RecordKind.PROBLEM,
        PROBLEM,
        expected,
    )


def test_a_type_the_mapping_does_not_know_is_kept_as_other(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """One row of a site's own type no longer fails the listing: it reads as other, the rest
    as before."""
    login_ok(mocked)
    mocked.get(
        f"{ENTRY}/HPD:Associations",
        json=page(
            "HPD:Associations",
            row(INCIDENT, PROBLEM, "Caused By"),
            row(INCIDENT, OTHER_INCIDENT, "Escalated With"),
            row(INCIDENT, OTHER_INCIDENT, "Original of"),
        ),
    )
    found = [(r.target_id, r.relation_type) for r in links(remedy, RecordKind.INCIDENT, INCIDENT)]
    assert found == [
        (PROBLEM, RelationType.CAUSED_BY),
        (OTHER_INCIDENT, RelationType.OTHER),
        (OTHER_INCIDENT, RelationType.ORIGINAL_OF),
    ]


@pytest.mark.parametrize(
    ("owner_side", "other_side", "seen_from_owner"),
    [
        ("Caused By", "Caused", RelationType.CAUSED_BY),
        ("Duplicate of", "Original of", RelationType.DUPLICATE_OF),
        ("Resolved by", "Resolved", RelationType.RESOLVED_BY),
        ("Related to", "Related to", RelationType.RELATED_TO),
    ],
    ids=["caused", "duplicate", "resolved", "related"],
)
def test_the_reciprocal_row_is_the_same_link_seen_from_the_other_record(
    mocked: responses.RequestsMock,
    remedy: RemedyConnector,
    owner_side: str,
    other_side: str,
    seen_from_owner: RelationType,
) -> None:
    """The problem's row on PBM:Investigation Associations names the incident as its target and
    the reciprocal type: read back, it is the incident's link turned round."""
    login_ok(mocked)
    mocked.get(
        f"{ENTRY}/HPD:Associations",
        json=page("HPD:Associations", row(INCIDENT, PROBLEM, owner_side)),
    )
    mocked.get(
        f"{ENTRY}/PBM:Investigation Associations",
        json=page("PBM:Investigation Associations", row(PROBLEM, INCIDENT, other_side)),
    )
    (mine,) = links(remedy, RecordKind.INCIDENT, INCIDENT)
    (theirs,) = links(remedy, RecordKind.PROBLEM, PROBLEM)
    assert (theirs.source_kind, theirs.source_id) == (RecordKind.PROBLEM, PROBLEM)
    assert (theirs.target_kind, theirs.target_id) == (RecordKind.INCIDENT, INCIDENT)
    assert mine.relation_type is seen_from_owner
    assert theirs.relation_type is seen_from_owner.inverse


def test_a_type_filter_asks_for_every_label_that_reads_as_that_type(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A filter on relation_type matches what the listing reads: every label of the type, and
    for other every label the mapping does not know."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/HPD:Associations", json=page("HPD:Associations"))
    list(
        remedy.find(
            Relation, Field("relation_type") == RelationType.CAUSES, within=RecordKind.INCIDENT
        )
    )
    list(
        remedy.find(
            Relation, Field("relation_type") == RelationType.IMPACTS, within=RecordKind.INCIDENT
        )
    )
    list(
        remedy.find(
            Relation, Field("relation_type") == RelationType.OTHER, within=RecordKind.INCIDENT
        )
    )
    causes, impacts, other = (q(call) for call in mocked.calls[1:])
    assert causes == "'Association Type01' = \"Caused\""
    assert impacts.startswith("('Association Type01' = \"Impacted CI\" OR ")
    assert impacts.count(" OR ") == 7
    assert other.startswith("NOT (('Association Type01' = \"Related to\" OR ")
    assert '"Changes"' in other


def test_relating_writes_the_label_of_the_type_from_the_source_side(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A new link is one row on the source's form; ITSM writes the reciprocal one itself."""
    login_ok(mocked)
    mocked.post(f"{ENTRY}/HPD:Associations", status=201)
    remedy.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id=OTHER_INCIDENT,
            target_kind=RecordKind.INCIDENT,
            target_id=INCIDENT,
            relation_type=RelationType.ORIGINAL_OF,
        )
    )
    sent = json.loads(mocked.calls[1].request.body)["values"]
    assert (sent["Request ID02"], sent["Request ID01"], sent["Association Type01"]) == (
        OTHER_INCIDENT,
        INCIDENT,
        "Original of",
    )
    assert len(mocked.calls) == 2


def test_a_link_of_unknown_type_cannot_be_written(remedy: RemedyConnector) -> None:
    """Other is read, never written: relating with it names the mapping table to extend."""
    link = Relation(
        source_kind=RecordKind.INCIDENT,
        source_id=INCIDENT,
        target_kind=RecordKind.PROBLEM,
        target_id=PROBLEM,
        relation_type=RelationType.OTHER,
    )
    with pytest.raises(ConfigurationError, match=r"enums\.association_type: no label for 'other'"):
        remedy.relate(link)
