"""CMDB class forms and SLM measurements [reference 4.8, 4.10].

`BMC.CORE:BMC_BaseElement` holds every CI; `BMC.CORE:BMC_BusinessService` shows the rows whose
ClassId is BMC_BUSINESSSERVICE (a subclass, so services also appear on the base form) with the
SITE fields the mapping reads. `BMC.CORE:BMC_BaseRelationship` holds CI relationships.
`SLM:Measurement` has the documented field names and ids [4.8]; `SVTTitle` is the mapping's
(UNCONFIRMED) name for the service target title.
"""

from __future__ import annotations

from sandbox.fields import char, chars, date, enum, integer
from sandbox.forms.model import join, regular
from sandbox.forms.selections import LIFECYCLE_STATUS, MEASUREMENT_STATUS, YES_NO

_CMDB_CORE = (
    char("Request ID", 1, readonly=True),
    char("Submitter", 2),
    date("CreateDate", 3, readonly=True),
    char("LastModifiedBy", 5, readonly=True),
    date("ModifiedDate", 6, readonly=True),
    char("InstanceId", 179, readonly=True),
)

BASE_ELEMENT = regular(
    "BMC.CORE:BMC_BaseElement",
    "cmdb_ci",
    (
        *_CMDB_CORE,
        *chars(
            "ReconciliationIdentity",
            "ClassId",
            "Name",
            "ShortDescription",
            "Description",
            "DatasetId",
            "Company",
            "Category",
            "Type",
            "Item",
            "Model",
            "ManufacturerName",
            "Site",
            "Region",
            "SiteGroup",
            "HostName",
            "Supported",
        ),
        enum("AssetLifecycleStatus", LIFECYCLE_STATUS),
        enum("MarkAsDeleted", YES_NO),
    ),
    key="Request ID",
    indexes=("ReconciliationIdentity", "ClassId", "Name"),
)

BUSINESS_SERVICE = join(
    BASE_ELEMENT,
    "BMC.CORE:BMC_BusinessService",
    request_id=False,
    scope=("ClassId", "BMC_BUSINESSSERVICE"),
    extra=chars(
        "ServiceType",
        "SMPM Service Owner",
        "SMPM Change Coordinator",
        "SMPM Problem Coordinator",
        "SMPM Capacity Manager",
        "SMPM Availability Manager",
        "SMPM Support Group",
    ),
)

BASE_RELATIONSHIP = regular(
    "BMC.CORE:BMC_BaseRelationship",
    "cmdb_relationship",
    (
        *_CMDB_CORE,
        *chars(
            "ReconciliationIdentity",
            "ClassId",
            "Name",
            "DatasetId",
            "Source.ReconciliationIdentity",
            "Source.InstanceId",
            "Source.ClassId",
            "Destination.ReconciliationIdentity",
            "Destination.InstanceId",
            "Destination.ClassId",
        ),
        enum("HasImpact", YES_NO),
        enum("MarkAsDeleted", YES_NO),
    ),
    key="Request ID",
    indexes=("Source.ReconciliationIdentity", "Destination.ReconciliationIdentity"),
)

MEASUREMENT = regular(
    "SLM:Measurement",
    "slm_measurement",
    (
        char("Request ID", 1, readonly=True),
        char("Submitter", 2),
        date("Create Date", 3, readonly=True),
        char("Last Modified By", 5, readonly=True),
        date("Modified Date", 6, readonly=True),
        char("SLMId", readonly=True),
        char("SVTInstanceID", 490008000),
        char("SVTTitle"),
        char("SLA Group"),
        char("Object ID 1", 490008100),
        char("ApplicationInstanceID", 490009000),
        char("Object ID 2", 490009100),
        enum("MeasurementStatus", MEASUREMENT_STATUS),
        integer("GoalSchedGoalTime", 300272700),
        date("OverallStartTime", 300364400),
        date("OverallStopTime", 300364500),
        date("SVTDueDate", 300364900),
        integer("OverallElapsedTime", 300436500),
        date("DownStartTime", 300364600),
        date("zD_DownStopTime", 300364700),
        integer("DownElapsedTime", 300364800),
        date("UpStartTime", 300440300),
        date("zD_UpStopTime", 300440200),
        integer("UpElapsedTime", 300440400),
    ),
    key="Request ID",
    indexes=("Object ID 1", "ApplicationInstanceID", "SVTDueDate"),
    # Escalation state the sandbox keeps out of the API: when the warning falls due, when a
    # pause began, and whether the target measures response or resolution.
    internal_columns=(("warn_at", "INTEGER"), ("paused_at", "INTEGER"), ("measure", "TEXT")),
)

FORMS = (BASE_ELEMENT, BUSINESS_SERVICE, BASE_RELATIONSHIP, MEASUREMENT)
