"""The embedded sandbox ITSM: an emulated BMC Remedy AR System server over SQLite.

See README.md in this folder. `Sandbox.start(...)` runs one in a background thread;
`serve(...)` runs one in the foreground for the `smpm sandbox` command.
"""

from connector.sandbox.seed import SeedError, load_seed
from connector.sandbox.server import Sandbox, serve

__all__ = ["Sandbox", "SeedError", "load_seed", "serve"]
