"""Work log and association forms, one of each per ticket module [reference 4.4, 4.7].

The work log fields are those of the recorded list_worklogs.json; the problem, known-error and
change work logs share them, with the parent's id field in place of `Incident Number`.
Association rows link `Request ID02` (the owning ticket) to `Request ID01` (the related record
on `Form Name01`); the field names are those integrators use [4.7].
"""

from __future__ import annotations

from dataclasses import replace

from sandbox.fields import char, chars, date, enum, integer, obj
from sandbox.forms.model import Form, regular
from sandbox.forms.selections import (
    ASSOCIATION_TYPE,
    RECORD_STATUS,
    REQUEST_TYPE,
    VIEW_ACCESS,
    WORK_LOG_TYPE,
    YES_NO,
)

_WORK_LOG_FIELDS = (
    char("Work Log ID", 1, readonly=True),
    char("Submitter", 2),
    date("Submit Date", 3, readonly=True),
    char("Assigned To", 4),
    *chars(
        "FileNameAttachment1",
        "z1D Mobile Worklog Upd2",
    ),
    char("Last Modified By", 5, readonly=True),
    *chars(
        "Work Log Submitter",
    ),
    date("Last Modified Date", 6, readonly=True),
    *chars(
        "ActivityValueChar_2",
    ),
    enum("Status", RECORD_STATUS, 7),
    date("Work Log Submit Date", readonly=True),
    char("Short Description", 8),
    *chars(
        "ActivityValueChar_3",
        "SV_TicketSummary",
        "z1D Char15",
        "z1D Action02",
        "Detailed Description",
        "Notifier Listening",
        "z1D_AttachedFileName",
        "z1D_SkipIfSmartITInstalled",
        "Needs Attention",
        "Communication Source",
        "z1D Lastcount",
        "z1D Char11",
        "z1D Char12",
        "z1D Char10",
        "z1D Char13",
        "z1D Char14",
        "z1D_PrefixResult",
        "Broker Vendor Ticket Id",
        "IsNotesRTFEnabled",
        "z1G_Use_Custom_Prefix",
        "ActivityValueChar_0",
    ),
    enum("Work Log Type", WORK_LOG_TYPE),
    *chars(
        "Incident Number",
        "ActivityValueChar_1",
        "Assignee Groups_parent",
        "z1G Multi-language",
        "Assignee",
    ),
    integer("Total Time Spent"),
    *chars(
        "Number of URLs",
        "AttachmentSourceGUID",
        "Assigned Group",
        "z1D Previous Operation",
        "URL02",
        "URL03",
        "URL01",
        "Additional Access",
        "Additional Access Parent",
        "ActivityValueSelection_0",
        "ActivityValueSelection_1",
        "z1G Enable User Defined 2",
        "z1G Enable User Defined 1",
        "z1G Enable Spanish",
        "z1G Enable German",
        "zTmpEventGUID",
    ),
    enum("Secure Work Log", YES_NO),
    *chars(
        "z1G Enable French",
        "Assigned Support Company",
    ),
    enum("View Access", VIEW_ACCESS),
    *chars(
        "z1G Disable Worklog Action",
        "RequestCreatedFromDWP",
        "z1G_HelpDeskIDPrefix",
        "z1D Page Indicator",
        "Assignee Groups",
        "z1D QuickViewWlg Flag",
        "AttachmentSourceFormName",
        "Chat Session ID",
        "Incident Entry ID",
        "Record ID",
        "z1G InitComplete",
        "z1D Char16",
        "z1D Integer04",
        "Assigned Support Organization",
        "ClientLocale",
        "z1D_WorkInfo_NotesLabel",
        "z1D Lastcount02",
        "Description",
        "Company",
        "z1D Char01",
        "ActivityValueSelection_2",
        "MessageId",
        "Assigned Group Shift Name",
        "Thumbnail 1",
        "z1D Close Dialog",
        "Thumbnail 2",
        "Shifts Flag",
        "InstanceId",
        "ActivityValueSelection_3",
        "z1D Permission Group ID",
        "z1D Permission Group List",
        "Assigned Group Shift ID",
        "Thumbnail 3",
        "SR_Instanceid",
        "Assignee Login ID",
        "z1D Char09",
        "z1D Char07",
        "Assign WorkLog Flag",
        "z1D Char08",
    ),
    obj("z2AF Work Log01"),
    *chars(
        "z1D_ConfirmGroup",
        "z1D Char05",
        "z1D_PrefixHolder",
        "z1D_WorkInfo_FileDefaultMsg",
    ),
    date("Work Log Date"),
    *chars(
        "z1D Char06",
        "Shared With Vendor",
        "Assigned Group ID",
        "DataTags",
        "z1D Action",
        "z1D Integer01",
        "z1D Char02",
        "z1D Char03",
        "WorkLog Action Status",
        "z1D Char04",
        "z1D Status-INC",
        "Broker Vendor Name",
        "DWP_SRID",
        "Vendor Assignee Groups",
        "FileNameAttachment2",
        "Vendor Assignee Groups_parent",
        "z1D Integer02",
        "z1D Integer03",
        "z1D_FileNameAttach2",
        "NeedsAttentionCCS_Setting",
        "FileNameAttachment3",
        "z1D_FileNameAttach3",
        "HPD Attachment ID",
        "DWP_SRInstanceID",
        "z1D_WIS",
    ),
    integer("Number of Attachments"),
    *chars(
        "Assignment Log Created",
    ),
    date("z1D Last Date Duration Calc"),
    obj("z2AF Work Log02"),
    obj("z2AF Work Log03"),
    *chars(
        "WorkLog Action Completed",
        "Communication Type",
        "z1D Work Log ID",
    ),
)

# Which parent id field each work log form carries [4.1, Remedy mapping kinds.work_note.parents].
WORK_LOG_PARENTS = {
    "HPD:WorkLog": "Incident Number",
    "PBM:Investigation WorkLog": "Problem Investigation ID",
    "PBM:Known Error WorkLog": "Known Error ID",
    "CHG:WorkLog": "Infrastructure Change ID",
}


def _work_log(name: str, table: str, parent: str) -> Form:
    fields = tuple(
        replace(f, name=parent) if f.name == "Incident Number" else f for f in _WORK_LOG_FIELDS
    )
    return regular(name, table, fields, "Work Log ID", indexes=(parent, "Submit Date"))


WORK_LOGS = tuple(
    _work_log(name, "wl_" + name.split(":")[0].lower() + str(i), parent)
    for i, (name, parent) in enumerate(WORK_LOG_PARENTS.items())
)

# Association form -> the base form of the tickets it holds rows for [4.7].
ASSOCIATION_OWNERS = {
    "HPD:Associations": ("HPD:Help Desk",),
    "PBM:Investigation Associations": ("PBM:Problem Investigation", "PBM:Known Error"),
    "CHG:Associations": ("CHG:Infrastructure Change",),
}

_ASSOCIATION_FIELDS = (
    char("Request ID", 1, readonly=True),
    char("Submitter", 2),
    date("Submit Date", 3, readonly=True),
    char("Last Modified By", 5, readonly=True),
    date("Last Modified Date", 6, readonly=True),
    enum("Status", RECORD_STATUS, 7),
    char("Short Description", 8),
    char("Request ID01"),
    char("Form Name01"),
    enum("Request Type01", REQUEST_TYPE),
    enum("Association Type01", ASSOCIATION_TYPE),
    char("Request Description01"),
    char("Request ID02"),
    char("Form Name02"),
    enum("Request Type02", REQUEST_TYPE),
)

ASSOCIATIONS = tuple(
    regular(
        name,
        f"assoc_{i}",
        _ASSOCIATION_FIELDS,
        "Request ID",
        indexes=("Request ID01", "Request ID02"),
    )
    for i, name in enumerate(ASSOCIATION_OWNERS)
)

FORMS = (*WORK_LOGS, *ASSOCIATIONS)
