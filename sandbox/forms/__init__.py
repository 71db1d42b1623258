"""The forms the sandbox serves, by name. Unknown names are AR error 303 [reference 2.7]."""

from __future__ import annotations

from sandbox.errors import form_not_found
from sandbox.forms import change, cmdb, foundation, incident, knowledge, problem, worklog
from sandbox.forms.model import Form, FormKind

ALL_FORMS: tuple[Form, ...] = (
    *incident.FORMS,
    *problem.FORMS,
    *change.FORMS,
    *worklog.FORMS,
    *foundation.FORMS,
    *cmdb.FORMS,
    *knowledge.FORMS,
)
FORMS: dict[str, Form] = {form.name: form for form in ALL_FORMS}


def find_form(name: str) -> Form:
    """The form called `name`; AR error 303 naming it when there is none."""
    form = FORMS.get(name)
    if form is None:
        raise form_not_found(name)
    return form


__all__ = ["ALL_FORMS", "FORMS", "Form", "FormKind", "find_form"]
