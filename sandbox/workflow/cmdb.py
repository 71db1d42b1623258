"""CMDB workflow: configuration items and their relationships [reference 4.10].

A CI needs a Name and a ClassId (set by the form on BMC_BusinessService); it gets an `OI-`
InstanceId, which is also its ReconciliationIdentity unless one is given (as for reconciled CIs
in the production dataset BMC.ASSET); ReconciliationIdentity is unique.
A relationship needs a known ClassId and existing source and destination CIs (by
ReconciliationIdentity); their class and instance ids are filled in. In BMC's Common Data Model a
BMC_DEPENDENCY relationship's destination depends on its source (BMC CMDB 21.3, "Relationships
represented in a data model diagram"); the sandbox stores what it is sent and does not check it.
"""

from __future__ import annotations

import uuid

from sandbox.errors import bad_value
from sandbox.forms import Form
from sandbox.tx import Tx
from sandbox.workflow.base import Hooks, Record
from sandbox.workflow.common import require

RELATIONSHIP_CLASSES = {
    "BMC_DEPENDENCY": "Dependency",
    "BMC_IMPACT": "Impact",
    "BMC_MEMBEROFCOLLECTION": "MemberOfCollection",
    "BMC_COMPONENT": "Component",
    "BMC_HOSTEDSYSTEMCOMPONENTS": "HostedSystemComponents",
    "BMC_ELEMENTLOCATION": "ElementLocation",
}


def cmdb_instance_id() -> str:
    return "OI-" + uuid.uuid4().hex.upper()


class ConfigurationItems(Hooks):
    forms = ("BMC.CORE:BMC_BaseElement", "BMC.CORE:BMC_BusinessService")

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        values = dict(record)
        if form.scope is not None:
            values[form.scope[0]] = form.scope[1]
        require(values, "Name", "ClassId")
        values["InstanceId"] = cmdb_instance_id()
        recon = values.get("ReconciliationIdentity") or values["InstanceId"]
        if tx.first("BMC.CORE:BMC_BaseElement", ReconciliationIdentity=recon) is not None:
            raise bad_value("ReconciliationIdentity", f"{recon!r} is already in use")
        values["ReconciliationIdentity"] = recon
        for name, default in (
            ("DatasetId", "BMC.ASSET"),
            ("AssetLifecycleStatus", "Deployed"),
            ("MarkAsDeleted", "No"),
        ):
            values[name] = values.get(name) or default
        return tx.insert(form, values)


class Relationships(Hooks):
    forms = ("BMC.CORE:BMC_BaseRelationship",)

    def create(self, tx: Tx, form: Form, record: Record) -> Record:
        values = dict(record)
        require(
            values, "ClassId", "Source.ReconciliationIdentity", "Destination.ReconciliationIdentity"
        )
        if values["ClassId"] not in RELATIONSHIP_CLASSES:
            known = ", ".join(RELATIONSHIP_CLASSES)
            raise bad_value("ClassId", f"{values['ClassId']!r} is not one of: {known}")
        for end in ("Source", "Destination"):
            recon = values[f"{end}.ReconciliationIdentity"]
            ci = tx.first("BMC.CORE:BMC_BaseElement", ReconciliationIdentity=recon)
            if ci is None:
                raise bad_value(f"{end}.ReconciliationIdentity", f"no CI {recon!r}")
            values[f"{end}.ClassId"] = ci["ClassId"]
            values[f"{end}.InstanceId"] = ci["InstanceId"]
        values["InstanceId"] = instance = cmdb_instance_id()
        values["ReconciliationIdentity"] = values.get("ReconciliationIdentity") or instance
        values["Name"] = values.get("Name") or RELATIONSHIP_CLASSES[values["ClassId"]]
        values["DatasetId"] = values.get("DatasetId") or "BMC.ASSET"
        values["HasImpact"] = values.get("HasImpact") or (
            "Yes" if values["ClassId"] in ("BMC_IMPACT", "BMC_DEPENDENCY") else "No"
        )
        values["MarkAsDeleted"] = values.get("MarkAsDeleted") or "No"
        return tx.insert(form, values)
