"""The ServiceNow face of the sandbox: the Table API subset a ServiceNow connector uses, over
the sandbox's SQLite file, written from shared/reference/servicenow-rest-api.md (section numbers
in brackets throughout). See ../README.md, "The ServiceNow face"."""

from sandbox.servicenow.face import ServiceNowFace
from sandbox.servicenow.settings import ServiceNowSettings

__all__ = ["ServiceNowFace", "ServiceNowSettings"]
