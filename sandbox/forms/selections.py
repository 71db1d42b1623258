"""Selection (enum) fields: labels exactly as the REST API returns them, in AR's stored order.

Labels come from the reference (section in brackets) and the Remedy mapping. The stored integers
for incident Status (0..6), Impact/Urgency (1000..4000), Service Type (0..4) and Reported Source
(1000..11000) follow community code quoted in [4.3] (UNCONFIRMED by BMC docs), those of Work Log
Type (1000..44000) a Mid Tier page (see below); elsewhere the integer is the label's position.
Comparisons such as `'Status' < "Pending"` use these integers.
"""

from __future__ import annotations

from sandbox.fields import Selection

INCIDENT_STATUS = Selection(  # [4.3]
    ("New", "Assigned", "In Progress", "Pending", "Resolved", "Closed", "Cancelled")
)
INCIDENT_STATUS_REASON = Selection(
    (  # [4.3]
        "Infrastructure Change Created",
        "Local Site Action Required",
        "Purchase Order Approval",
        "Registration Approval",
        "Supplier Delivery",
        "Support Contact Hold",
        "Third Party Vendor Action Reqd",
        "Client Action Required",
        "Infrastructure Change Request",
        "Future Enhancement",
        "Pending Original Incident",
        "Client Hold",
        "Monitoring Incident",
        "Customer Follow-Up Required",
        "Temporary Corrective Action",
        "No Further Action Required",
        "Resolved by Original Incident",
        "Automated Resolution Reported",
        "No longer a Causal CI",
        "Pending Causal Incident Resolution",
        "Resolved by Causal Incident",
    )
)
IMPACT = Selection(
    ("1-Extensive/Widespread", "2-Significant/Large", "3-Moderate/Limited", "4-Minor/Localized"),
    (1000, 2000, 3000, 4000),
)
URGENCY = Selection(("1-Critical", "2-High", "3-Medium", "4-Low"), (1000, 2000, 3000, 4000))
PRIORITY = Selection(("Critical", "High", "Medium", "Low"))
SERVICE_TYPE = Selection(
    (
        "User Service Restoration",
        "User Service Request",
        "Infrastructure Restoration",
        "Infrastructure Event",
        "Security Incident",
    )
)
REPORTED_SOURCE = Selection(
    (
        "Direct Input",
        "Email",
        "External Escalation",
        "Fax",
        "Self Service",
        "Systems Management",
        "Phone",
        "Voice Mail",
        "Walk In",
        "Web",
        "Other",
        "BMC Impact Manager Event",
    ),
    (1000, 2000, 3000, 4000, 4200, 5000, 6000, 7000, 8000, 9000, 10000, 11000),
)
PROBLEM_STATUS = Selection(
    (  # [4.5]
        "Draft",
        "Under Review",
        "Request for Authorization",
        "Assigned",
        "Under Investigation",
        "Pending",
        "Completed",
        "Rejected",
        "Closed",
        "Cancelled",
    )
)
INVESTIGATION_DRIVER = Selection(
    ("High Impact Incident", "Re-Occurring Incidents", "Non-Routine Incident", "Other")
)
KNOWN_ERROR_STATUS = Selection(
    (  # [4.5]
        "Assigned",
        "Scheduled For Correction",
        "Assigned To Vendor",
        "No Action Planned",
        "Corrected",
        "Closed",
        "Cancelled",
    )
)
KNOWN_ERROR_STATUS_REASON = Selection(
    (
        "Duplicate",
        "No Longer Applicable",
        "Pending PIR",
        "Funding Not Available",
        "Pending Infrastructure Change",
        "Pending Third Party Vendor",
    )
)
CHANGE_STATUS = Selection(
    (  # [4.6]
        "Draft",
        "Request For Authorization",
        "Request For Change",
        "Planning In Progress",
        "Scheduled For Review",
        "Scheduled For Approval",
        "Scheduled",
        "Implementation In Progress",
        "Pending",
        "Rejected",
        "Completed",
        "Closed",
        "Cancelled",
    )
)
CHANGE_TYPE = Selection(
    (
        "Project",
        "Change",
        "Release",
        "Asset Configuration",
        "Asset Management",
        "Asset Lease",
        "Purchase Requisition",
        "Asset Maintenance",
    )
)
CHANGE_TIMING = Selection(("Emergency", "Expedited", "Latent", "Normal", "No Impact", "Standard"))
RISK_LEVEL = Selection(tuple(f"Risk Level {n}" for n in range(1, 6)))
TASK_STATUS = Selection(  # [4.6]
    ("Staged", "Assigned", "Pending", "Work In Progress", "Waiting", "Closed", "Bypassed")
)
RECORD_STATUS = Selection(("Proposed", "Enabled", "Offline", "Obsolete", "Archive", "Delete"))
YES_NO = Selection(("No", "Yes"))
VIEW_ACCESS = Selection(("Internal", "Public"))
# Work Log Type [4.4]: the stock list of BMC's HPD and CHG web-service WSDLs, with the integers a
# Mid Tier page of HPD:WorkLog shows (General Information is the 8000 one integrator's config
# names [4.4]). The "-----" entries are the selection's group headings, stored values too. The
# system group (37999...) comes with newer versions (seen on two sites, in the same order); the
# integer of its last label is UNCONFIRMED.
WORK_LOG_TYPE = Selection(
    (
        "----- Customer Inbound -----",
        "Customer Communication",
        "Customer Follow-up",
        "Customer Status Update",
        "----- Customer Outbound -----",
        "Closure Follow Up",
        "Detail Clarification",
        "General Information",
        "Resolution Communications",
        "Satisfaction Survey",
        "Status Update",
        "----- General -----",
        "Incident Task / Action",
        "Problem Script",
        "Working Log",
        "Email System",
        "Paging System",
        "BMC Impact Manager Update",
        "Chat",
        "----- Vendor -----",
        "Vendor Communication",
        "-----System-----",
        "Assignment Change",
        "Priority Change",
        "Status Change",
        "Vendor Ticket Status Update",
        "Note from Vendor",
        "Vendor Ticket Created via Business Rules",
        "Ticket Created from Vendor",
    ),
    (
        *range(1000, 19000, 1000),
        35000,
        36000,
        37000,
        37999,
        *range(38000, 45000, 1000),
    ),
)
MEASUREMENT_STATUS = Selection(
    (  # [4.8]
        "Attached",
        "In Process",
        "Pending",
        "Warning",
        "Met",
        "Missed",
        "Missed Goal",
        "Detached",
    )
)
# Association rows [4.7]: the stock types, each pair as ITSM writes it on the two records of a
# link ("Caused By" / "Caused", "Duplicate of" / "Original of", "Resolved by" / "Resolved")
# [4.4], "Impacted CI", and the change-to-CI types of the change UI ("Upgrades" ... "Changes").
ASSOCIATION_TYPE = Selection(
    (
        "Related to",
        "Duplicate of",
        "Original of",
        "Caused",
        "Caused By",
        "Resolved",
        "Resolved by",
        "Impacted CI",
        "Upgrades",
        "Repairs",
        "Impacts",
        "Moves",
        "Installs",
        "Removes",
        "Changes",
    )
)
REQUEST_TYPE = Selection(
    (
        "Incident",
        "Problem Investigation",
        "Known Error",
        "Infrastructure Change",
        "Task",
        "Configuration Item",
        "Release",
    )
)
LIFECYCLE_STATUS = Selection(
    (
        "Ordered",
        "Received",
        "Being Assembled",
        "Deployed",
        "In Repair",
        "Down",
        "End of Life",
        "Transferred",
        "Delete",
        "In Inventory",
        "On Loan",
        "Disposed",
        "Reserved",
        "Return to Vendor",
    )
)
RELEASE_STATUS = Selection(
    (
        "Draft",
        "Registered",
        "Planning",
        "Build",
        "Test",
        "Deployment",
        "Close Down",
        "Pending",
        "Rejected",
        "Completed",
        "Closed",
        "Cancelled",
    )
)
