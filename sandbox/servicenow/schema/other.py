"""Foundation, service level, event, knowledge and system tables [2.5-2.9].

`sys_journal_field` holds journal entries (work notes, comments) [2.9]; `sys_choice`,
`sys_dictionary` and `sys_db_object` describe the other tables and are rebuilt from these
definitions at start-up, so clients can read fields and choice values at runtime [2].
"""

from __future__ import annotations

from sandbox.servicenow.schema import choices as c
from sandbox.servicenow.schema.model import (
    CONDITIONS,
    DECIMAL,
    DURATION,
    EMAIL,
    HTML,
    TABLE_NAME,
    Column,
    Table,
    flag,
    number,
    pick,
    ref,
    text,
    typed,
    when,
)

COMPANY = Table(
    "core_company",
    "Company",
    (
        text("name", length=80),
        flag("customer"),
        flag("vendor"),
        flag("manufacturer"),
        flag("primary"),
        text("stock_symbol"),
        text("phone"),
        text("city"),
        text("country"),
    ),
    indexes=("name",),
)
DEPARTMENT = Table(
    "cmn_department",
    "Department",
    (
        text("name", length=100),
        ref("company", "core_company"),
        ref("head", "sys_user", "Department head"),
        text("description", length=1000),
    ),
    indexes=("name",),
)
LOCATION = Table(
    "cmn_location",
    "Location",
    (
        text("name", length=100),
        text("street", length=255),
        text("city", length=100),
        text("state", length=100),
        text("country", length=40),
        ref("company", "core_company"),
        ref("parent", "cmn_location"),
    ),
    indexes=("name",),
)
USER = Table(
    "sys_user",
    "User",
    (
        text("user_name", "User ID"),
        text("first_name", length=50),
        text("last_name", length=50),
        text("name", length=151),
        typed("email", EMAIL),
        ref("company", "core_company"),
        ref("department", "cmn_department"),
        ref("manager", "sys_user"),
        flag("active", default="true"),
        text("title", "Title", length=60),
        text("phone", "Business phone"),
        text("mobile_phone"),
        flag("vip", "VIP"),
        flag("locked_out"),
        text("employee_number"),
        ref("location", "cmn_location"),
        text("time_zone"),
    ),
    indexes=("user_name", "name"),
)
GROUP = Table(
    "sys_user_group",
    "Group",
    (
        text("name", length=80),
        ref("manager", "sys_user"),
        typed("email", EMAIL, "Group email"),
        flag("active", default="true"),
        text("description", length=1000),
        ref("parent", "sys_user_group"),
        ref("company", "core_company"),
        text("type"),
        flag("exclude_manager"),
        flag("include_members"),
    ),
    indexes=("name",),
)
MEMBER = Table(
    "sys_user_grmember",
    "Group Member",
    (ref("user", "sys_user"), ref("group", "sys_user_group")),
    display="user",
    indexes=("user", "group"),
)

CONTRACT_SLA = Table(
    "contract_sla",
    "SLA Definition",
    (
        text("name", length=100),
        pick("type", c.SLA_TYPE, default="SLA"),
        pick("target", c.SLA_TARGET),
        typed("collection", TABLE_NAME, "Table", default="incident"),
        typed("duration", DURATION),
        typed("start_condition", CONDITIONS),
        typed("stop_condition", CONDITIONS),
        typed("pause_condition", CONDITIONS),
        typed("reset_condition", CONDITIONS),
        ref("schedule", "cmn_schedule"),
        text("timezone"),
        flag("active", default="true"),
        text("duration_type"),
        text("description", length=1000),
    ),
)
TASK_SLA = Table(
    "task_sla",
    "Task SLA",
    (
        ref("task", "task"),
        ref("sla", "contract_sla", "SLA definition"),
        pick("stage", c.SLA_STAGE, default="in_progress"),
        flag("has_breached"),
        typed("percentage", DECIMAL, "Actual elapsed percentage"),
        typed("business_percentage", DECIMAL, "Business elapsed percentage"),
        when("planned_end_time", "Planned end time"),
        when("original_breach_time"),
        when("start_time"),
        when("end_time", "Stop time"),
        when("pause_time"),
        typed("duration", DURATION, "Actual elapsed time"),
        typed("business_duration", DURATION, "Business elapsed time"),
        typed("pause_duration", DURATION, "Actual pause duration"),
        typed("business_pause_duration", DURATION, "Business pause duration"),
        typed("time_left", DURATION, "Actual time left"),
        typed("business_time_left", DURATION, "Business time left"),
        flag("active", default="true"),
        ref("schedule", "cmn_schedule"),
        text("timezone"),
    ),
    display="sla",
    indexes=("task", "sla", "stage"),
    # the SLA clock in epoch seconds: start, goal, paused since, paused in total
    hidden=(
        ("x_start", "INTEGER"),
        ("x_goal", "INTEGER"),
        ("x_paused_at", "INTEGER"),
        ("x_paused", "INTEGER"),
    ),
)

EVENT = Table(
    "em_event",
    "Event",
    (
        text("source", length=100),
        text("node", length=100),
        text("type", length=100),
        text("resource", length=100),
        text("metric_name", length=100),
        text("event_class", "Source instance", length=100),
        text("message_key", length=1024),
        text("ci_type", "CI type", length=100),
        pick("severity", c.EVENT_SEVERITY),
        pick("resolution_state", c.EVENT_RESOLUTION, default="New"),
        when("time_of_event"),
        pick("state", c.EVENT_STATE, default="Ready"),
        ref("alert", "em_alert"),
        text("description", length=4000),
        text("additional_info", length=4000),
        text("processing_notes", length=4000),
        ref("cmdb_ci", "cmdb_ci", "Configuration item"),
        text("ci_identifier", "CI identifier", length=4000),
    ),
    display="message_key",
    indexes=("message_key", "state"),
)
KNOWLEDGE = Table(
    "kb_knowledge",
    "Knowledge",
    (
        text("number"),
        text("short_description", length=160),
        typed("text", HTML, "Article body"),
        ref("kb_knowledge_base", "kb_knowledge_base", "Knowledge base"),
        ref("kb_category", "kb_category", "Category"),
        pick("workflow_state", c.KB_STATE, default="draft"),
        ref("author", "sys_user"),
        ref("ownership_group", "sys_user_group"),
        ref("source", "task"),
        typed("valid_to", "glide_date"),
        typed("published", "glide_date"),
        flag("latest", default="true"),
        flag("active", default="true"),
        text("article_type", default="text"),
    ),
    prefix="KB",
    display="number",
    indexes=("number", "workflow_state"),
)

JOURNAL_FIELD = Table(
    "sys_journal_field",
    "Journal Entry",
    (
        Column("element_id", "GUID", label="Element ID", max_length=32),
        text("element", length=80),
        typed("name", TABLE_NAME, "Table name"),
        text("value", length=4000),
    ),
    display="value",
    indexes=("element_id",),
)
CHOICE = Table(
    "sys_choice",
    "Choices",
    (
        typed("name", TABLE_NAME, "Table"),
        text("element", length=80),
        text("value", length=40),
        text("label", length=100),
        number("sequence"),
        flag("inactive"),
        text("language", default="en"),
        text("dependent_value"),
    ),
    display="label",
    indexes=("name", "element"),
)
DICTIONARY = Table(
    "sys_dictionary",
    "Dictionary Entry",
    (
        typed("name", TABLE_NAME, "Table"),
        text("element", "Column name", length=80),
        text("column_label", length=80),
        ref("internal_type", "sys_glide_object", "Type"),
        ref("reference", "sys_db_object"),
        number("max_length"),
        typed("choice", "integer"),
        text("default_value", length=512),
        flag("mandatory"),
        flag("read_only"),
        flag("active", default="true"),
        flag("display"),
        flag("primary"),
    ),
    display="element",
    indexes=("name", "element"),
)
DB_OBJECT = Table(
    "sys_db_object",
    "Table",
    (
        typed("name", TABLE_NAME),
        text("label", length=80),
        ref("super_class", "sys_db_object", "Extends table"),
        text("number_ref", "Auto number"),
        flag("is_extendable", "Extensible"),
    ),
    indexes=("name",),
)

TABLES = (
    COMPANY,
    DEPARTMENT,
    LOCATION,
    USER,
    GROUP,
    MEMBER,
    CONTRACT_SLA,
    TASK_SLA,
    EVENT,
    KNOWLEDGE,
    JOURNAL_FIELD,
    CHOICE,
    DICTIONARY,
    DB_OBJECT,
)
SYSTEM_TABLES = ("sys_choice", "sys_dictionary", "sys_db_object")  # rebuilt at start-up
