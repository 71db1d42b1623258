"""BMC Remedy ITSM / Helix through the AR System REST API.

`connector` is the `Connector` itself (`RemedyConnector`, `RemedyOptions`); below it `auth` (the
AR-JWT login as a requests auth plugin), `errors` (Remedy's error arrays, translated in one
function), `layouts` (work logs and associations, one form per parent or source kind) and
`qualification` (filter expressions rendered as AR qualifications, every value escaped); above
it `check` (what `smpm check` asks the server). Imports run one way: down, never back up.
"""

from connector.remedy.auth import RemedyCredentials
from connector.remedy.connector import (
    RemedyConnector,
    RemedyOptions,
    entry_url,
    format_ar_date,
    values_param,
)

__all__ = [
    "RemedyConnector",
    "RemedyCredentials",
    "RemedyOptions",
    "entry_url",
    "format_ar_date",
    "values_param",
]
