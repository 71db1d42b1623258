"""The embedded sandbox ITSM: an emulated BMC Remedy AR System server, and on the same port a
ServiceNow Table API face, over SQLite.

See README.md in this folder. `Sandbox.start(...)` runs one in a background thread;
`serve(...)` runs one in the foreground for the `smpm sandbox` command.
"""

from sandbox.seed import SeedError, load_seed
from sandbox.server import Sandbox, serve
from sandbox.servicenow import ServiceNowSettings

__all__ = ["Sandbox", "SeedError", "ServiceNowSettings", "load_seed", "serve"]
