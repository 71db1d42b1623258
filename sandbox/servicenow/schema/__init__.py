"""The tables the ServiceNow face serves; `SCHEMA` resolves names, columns and classes."""

from sandbox.servicenow.schema import cmdb, other, task
from sandbox.servicenow.schema.model import Column, Schema, Table

SCHEMA = Schema((*task.TABLES, *cmdb.TABLES, *other.TABLES))

__all__ = ["SCHEMA", "Column", "Schema", "Table"]
