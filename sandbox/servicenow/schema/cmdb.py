"""The CMDB: `cmdb_ci` and its class tables, relationships and relationship types [2.5].

Classes are those the seed's CIs need, each under its platform parent so that a query on
`cmdb_ci` (or `cmdb_ci_server`, `cmdb_ci_appl`, ...) returns every class below it. A
`cmdb_rel_ci` row says that its `parent` stands in the `type`'s parent role to its `child`:
with "Depends on::Used by", the parent depends on the child.
"""

from __future__ import annotations

from sandbox.servicenow.schema import choices as c
from sandbox.servicenow.schema.model import (
    Table,
    flag,
    number,
    pick,
    ref,
    text,
    when,
)

DEPENDS_ON = "1a9cb166f1571100a92eb60da2bce5c5"  # "Depends on::Used by" [2.5, cmdb-instance-api]
EXCHANGES_DATA = "607ad1b2c0a8010e01941856b365af90"

CMDB_CI = Table(
    "cmdb_ci",
    "Configuration Item",
    (
        text("name", length=255),
        text("short_description", length=1000),
        text("description", length=4000),
        pick("operational_status", c.OPERATIONAL_STATUS, default="1", integer=True),
        pick("install_status", c.INSTALL_STATUS, default="1", integer=True),
        ref("company", "core_company"),
        ref("manufacturer", "core_company"),
        ref("owned_by", "sys_user"),
        ref("managed_by", "sys_user"),
        ref("support_group", "sys_user_group"),
        ref("assignment_group", "sys_user_group"),
        ref("location", "cmn_location"),
        ref("department", "cmn_department"),
        pick("used_for", c.USED_FOR, default="Production"),
        text("category"),
        text("subcategory"),
        text("ip_address", "IP Address"),
        text("fqdn", "Fully qualified domain name", length=255),
        text("serial_number"),
        text("asset_tag"),
        text("correlation_id", length=100),
        text("environment"),
        flag("monitor"),
        when("install_date"),
        ref("sys_domain", "sys_user_group", "Domain", default="global"),
        text("sys_domain_path", "Domain path", default="/"),
    ),
    indexes=("name", "sys_class_name", "support_group", "owned_by"),
)
HARDWARE = Table("cmdb_ci_hardware", "Hardware", parent="cmdb_ci")
COMPUTER = Table(
    "cmdb_ci_computer",
    "Computer",
    (
        text("os", "Operating System"),
        text("os_version", "OS Version"),
        number("cpu_count", "CPU count"),
        number("ram", "RAM (MB)"),
        text("host_name", length=255),
        flag("virtual"),
    ),
    parent="cmdb_ci_hardware",
)
SERVER = Table("cmdb_ci_server", "Server", parent="cmdb_ci_computer")
LINUX_SERVER = Table("cmdb_ci_linux_server", "Linux Server", parent="cmdb_ci_server")
NETGEAR = Table(
    "cmdb_ci_netgear",
    "Network Gear",
    (text("device_type"), number("ports")),
    parent="cmdb_ci_hardware",
)
SWITCH = Table("cmdb_ci_ip_switch", "IP Switch", parent="cmdb_ci_netgear")
ROUTER = Table("cmdb_ci_ip_router", "IP Router", parent="cmdb_ci_netgear")
FIREWALL = Table("cmdb_ci_ip_firewall", "IP Firewall", parent="cmdb_ci_netgear")
LOAD_BALANCER = Table("cmdb_ci_lb", "Load Balancer", parent="cmdb_ci_netgear")
STORAGE = Table(
    "cmdb_ci_storage_device",
    "Storage Device",
    (number("disk_space", "Disk space (GB)"), text("storage_type")),
    parent="cmdb_ci_hardware",
)
CLUSTER = Table(
    "cmdb_ci_cluster",
    "Cluster",
    (text("cluster_id", "Cluster ID"), text("cluster_status")),
    parent="cmdb_ci",
)
VM_INSTANCE = Table(
    "cmdb_ci_vm_instance",
    "Virtual Machine Instance",
    (number("cpus", "CPUs"), number("memory", "Memory (MB)"), text("state")),
    parent="cmdb_ci",
)
APPLICATION = Table(
    "cmdb_ci_appl",
    "Application",
    (text("version"), number("tcp_port", "TCP port(s)"), text("running_process_command")),
    parent="cmdb_ci",
)
WEB_SERVER = Table("cmdb_ci_web_server", "Web Server", parent="cmdb_ci_appl")
EMAIL_SERVER = Table("cmdb_ci_email_server", "Email Server", parent="cmdb_ci_appl")
DB_INSTANCE = Table(
    "cmdb_ci_db_instance",
    "Database Instance",
    (text("instance_name"), text("type", "Database type")),
    parent="cmdb_ci_appl",
)
SERVICE = Table(
    "cmdb_ci_service",
    "Business Service",
    (
        pick("busines_criticality", c.CRITICALITY, "Business criticality"),
        pick("service_classification", c.SERVICE_CLASSIFICATION, default="Business Service"),
        text("version"),
        ref("parent", "cmdb_ci_service"),
        ref("u_change_coordinator", "sys_user", "Change coordinator"),
        ref("u_problem_coordinator", "sys_user", "Problem coordinator"),
        ref("u_capacity_manager", "sys_user", "Capacity manager"),
        ref("u_availability_manager", "sys_user", "Availability manager"),
    ),
    parent="cmdb_ci",
)

REL_CI = Table(
    "cmdb_rel_ci",
    "CI Relationship",
    (
        ref("parent", "cmdb_ci"),
        ref("child", "cmdb_ci"),
        ref("type", "cmdb_rel_type"),
        text("port"),
        number("percent_outage", "Percent outage"),
        text("connection_strength", default="always"),
    ),
    display="type",
    indexes=("parent", "child"),
)
REL_TYPE = Table(
    "cmdb_rel_type",
    "CI Relationship Type",
    (
        text("name", length=100),
        text("parent_descriptor", length=100),
        text("child_descriptor", length=100),
        flag("end_point"),
    ),
)

TABLES = (
    CMDB_CI,
    HARDWARE,
    COMPUTER,
    SERVER,
    LINUX_SERVER,
    NETGEAR,
    SWITCH,
    ROUTER,
    FIREWALL,
    LOAD_BALANCER,
    STORAGE,
    CLUSTER,
    VM_INSTANCE,
    APPLICATION,
    WEB_SERVER,
    EMAIL_SERVER,
    DB_INSTANCE,
    SERVICE,
    REL_CI,
    REL_TYPE,
)
# "Parent descriptor::Child descriptor" -> sys_id; the first two are the documented ones [2.5]
REL_TYPES = {
    "Depends on::Used by": DEPENDS_ON,
    "Exchanges data with::Exchanges data with": EXCHANGES_DATA,
    "Runs on::Runs": "",
    "Hosted on::Hosts": "",
    "Members::Member of": "",
    "Cluster of::Cluster": "",
    "Contains::Contained by": "",
    "Owned by::Owns": "",
    "Connects to::Connected by": "",
    "Uses::Used by": "",
}
