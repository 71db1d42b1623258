"""ServiceNow through the Table API.

`connector` is the `Connector` itself (`ServiceNowConnector`, `ServiceNowOptions`); below it
`auth` (Basic and OAuth 2 as a requests auth plugin), `errors` (the error envelope, translated
in one function), `batch` (the Batch API), `layouts` (work notes, relations and filters in
platform columns), `sla` (task SLAs as service targets), `refs` (names to sys_ids), `paging`,
`values` (the wire values) and `encoded_query` (filter expressions rendered as encoded queries,
every value escaped); above it `check` (what `smpm check` asks the instance). Imports run one
way: down, never back up; the modules below the connector are typed against the small
protocols they use of it (`layouts.LayoutHost`, `batch.BatchHost`, `refs.RecordSource`).
"""

from connector.base import RecordUpdate
from connector.servicenow.auth import ServiceNowCredentials
from connector.servicenow.connector import ServiceNowConnector, ServiceNowOptions
from connector.servicenow.values import format_sn_date

__all__ = [
    "RecordUpdate",
    "ServiceNowConnector",
    "ServiceNowCredentials",
    "ServiceNowOptions",
    "format_sn_date",
]
