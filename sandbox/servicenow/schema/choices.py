"""Choice lists: the base-system values of reference section 2 (sys_choice serves them).

Values are what the API stores and queries by; labels are display values [1.6: "Choice fields
are queried by value, not label"]. Where the reference marks values UNCONFIRMED the note says so.
"""

from __future__ import annotations

from sandbox.servicenow.schema.model import Choices


def same(*labels: str) -> Choices:
    """A list whose values are their labels (em_event.state, contract_sla.type, ...)."""
    return tuple((label, label) for label in labels)


# -- task and its classes [2.1-2.4] ---------------------------------------------------------------
TASK_STATE: Choices = (
    ("-5", "Pending"),
    ("1", "Open"),
    ("2", "Work in Progress"),
    ("3", "Closed Complete"),
    ("4", "Closed Incomplete"),
    ("7", "Closed Skipped"),
)
IMPACT: Choices = (("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low"))
URGENCY: Choices = IMPACT
PRIORITY: Choices = (
    ("1", "1 - Critical"),
    ("2", "2 - High"),
    ("3", "3 - Moderate"),
    ("4", "4 - Low"),
    ("5", "5 - Planning"),
)
APPROVAL: Choices = (
    ("not requested", "Not Yet Requested"),
    ("requested", "Requested"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
    ("not_required", "No Longer Required"),
    ("duplicate", "Duplicate"),
)
ESCALATION: Choices = (("0", "Normal"), ("1", "Moderate"), ("2", "High"), ("3", "Overdue"))
CONTACT_TYPE: Choices = (
    ("email", "Email"),
    ("phone", "Phone"),
    ("self-service", "Self-service"),
    ("virtual_agent", "Virtual Agent"),
    ("walk-in", "Walk-in"),
    # not base-system values: the sandbox instance adds them, as the ServiceNow mapping asks
    ("monitoring", "Monitoring"),
    ("event", "Event"),
)
UPON_APPROVAL: Choices = (
    ("proceed", "Proceed to Next Task"),
    ("do_nothing", "Wait for a User to Close this task"),
)
UPON_REJECT: Choices = (("cancel", "Cancel all future Tasks"), ("goto", "Go to a previous Task"))

INCIDENT_STATE: Choices = (
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
)
HOLD_REASON: Choices = (
    ("1", "Awaiting Caller"),
    ("3", "Awaiting Problem"),
    ("4", "Awaiting Vendor"),
    ("5", "Awaiting Change"),
)
SEVERITY: Choices = IMPACT
INCIDENT_CATEGORY: Choices = (
    ("inquiry", "Inquiry / Help"),
    ("software", "Software"),
    ("hardware", "Hardware"),
    ("network", "Network"),
    ("database", "Database"),
)
INCIDENT_CLOSE_CODE: Choices = same(
    "Duplicate",
    "Known error",
    "No resolution provided",
    "Resolved by caller",
    "Resolved by change",
    "Resolved by problem",
    "Resolved by request",
    "Solution provided",
    "Workaround provided",
    "User error",
)
NOTIFY: Choices = (("1", "Do Not Notify"), ("2", "Send Email"), ("3", "Telephone"))
SERVICE_TYPE: Choices = (  # incident.u_service_type, agreed with the connector
    ("user_service_restoration", "User Service Restoration"),
    ("user_service_request", "User Service Request"),
    ("infrastructure_restoration", "Infrastructure Restoration"),
    ("infrastructure_event", "Infrastructure Event"),
    ("security_incident", "Security Incident"),
)

PROBLEM_STATE: Choices = (  # the Madrid+ state model [2.2]
    ("101", "New"),
    ("102", "Assess"),
    ("103", "Root Cause Analysis"),
    ("104", "Fix in Progress"),
    ("106", "Resolved"),
    ("107", "Closed"),
)
PROBLEM_RESOLUTION: Choices = (
    ("fix_applied", "Fix Applied"),
    ("risk_accepted", "Risk Accepted"),
    ("canceled", "Canceled"),
    ("duplicate", "Duplicate"),
)

CHANGE_STATE: Choices = (  # the change state model [2.3]
    ("-5", "New"),
    ("-4", "Assess"),
    ("-3", "Authorize"),
    ("-2", "Scheduled"),
    ("-1", "Implement"),
    ("0", "Review"),
    ("3", "Closed"),
    ("4", "Canceled"),
)
CHANGE_TYPE: Choices = (("standard", "Standard"), ("normal", "Normal"), ("emergency", "Emergency"))
CHANGE_RISK: Choices = (  # [2.3: conflicting sources; ansible's list, as the reference advises]
    ("1", "Very High"),
    ("2", "High"),
    ("3", "Moderate"),
    ("4", "Low"),
)
CHANGE_PRIORITY: Choices = PRIORITY[:4]
CHANGE_PHASE: Choices = (
    ("requested", "Requested"),
    ("plan", "Plan"),
    ("build", "Build"),
    ("accept", "Accept"),
)
CHANGE_CLOSE_CODE: Choices = (
    ("successful", "Successful"),
    ("successful_issues", "Successful with issues"),
    ("unsuccessful", "Unsuccessful"),
)
CHANGE_CATEGORY: Choices = same(
    "Hardware", "Software", "Service", "System Software", "Network", "Documentation", "Other"
)
CONFLICT_STATUS: Choices = same("Not Run", "Conflict", "No Conflict")
CHANGE_TASK_STATE: Choices = (  # [2.3: ansible's mapping, UNCONFIRMED in the docs]
    ("-5", "Pending"),
    ("1", "Open"),
    ("2", "In Progress"),
    ("3", "Closed"),
    ("4", "Canceled"),
)
CHANGE_TASK_TYPE: Choices = (
    ("planning", "Planning"),
    ("implementation", "Implementation"),
    ("testing", "Testing"),
    ("review", "Review"),
)

# -- CMDB [2.5] ------------------------------------------------------------------------------------
OPERATIONAL_STATUS: Choices = (
    ("1", "Operational"),
    ("2", "Non-Operational"),
    ("3", "Repair in Progress"),
    ("4", "DR Standby"),
    ("5", "Ready"),
    ("6", "Retired"),
)
INSTALL_STATUS: Choices = (
    ("1", "Installed"),
    ("2", "On Order"),
    ("3", "In Maintenance"),
    ("4", "Pending Install"),
    ("5", "Pending Repair"),
    ("6", "In Stock"),
    ("7", "Retired"),
    ("100", "Absent"),
)
USED_FOR: Choices = same("Production", "Staging", "QA", "Test", "Development", "Disaster recovery")
CRITICALITY: Choices = same(
    "1 - most critical", "2 - somewhat critical", "3 - less critical", "4 - not critical"
)
SERVICE_CLASSIFICATION: Choices = same(
    "Business Service", "Technical Service", "Application Service", "Shared Service"
)

# -- events, SLAs, knowledge [2.6-2.8] -------------------------------------------------------------
EVENT_SEVERITY: Choices = (
    ("0", "Clear"),
    ("1", "Critical"),
    ("2", "Major"),
    ("3", "Minor"),
    ("4", "Warning"),
    ("5", "OK"),
)
EVENT_STATE: Choices = same("Ready", "Processed", "Ignored", "Error")
EVENT_RESOLUTION: Choices = same("New", "Closing")
SLA_STAGE: Choices = (  # [2.6: spellings other than `cancelled` UNCONFIRMED]
    ("in_progress", "In progress"),
    ("paused", "Paused"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
    ("breached", "Breached"),
)
SLA_TYPE: Choices = same("SLA", "OLA", "Underpinning contract")
SLA_TARGET: Choices = (("response", "Response"), ("resolution", "Resolution"))
KB_STATE: Choices = (
    ("draft", "Draft"),
    ("review", "Review"),
    ("published", "Published"),
    ("pending_retirement", "Pending retirement"),
    ("retired", "Retired"),
    ("outdated", "Outdated"),
)
