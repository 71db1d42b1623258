"""Conditions on an incident request, as written in routing rules and change criteria.

Every condition a `Match` holds must hold (AND); a condition with a list of values holds when any
value does (OR). Each test returns the conditions that held, in words, so the reason of an action
can say exactly why a rule fired.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    field_validator,
    model_validator,
)

from connector.entities import IncidentRequest
from connector.enums import ReportedSource, ServiceType


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(_as_list)]


def _tiers(path: str) -> list[str]:
    return [part.strip() for part in path.split("/")]


def _category_holds(pattern: str, values: list[str | None]) -> bool:
    """'Failure/Application/*' against tiers 1..3; '*' matches any tier, missing tiers fail."""
    for want, have in zip(_tiers(pattern), values, strict=False):
        if want != "*" and (have or "").casefold() != want.casefold():
            return False
    return len(_tiers(pattern)) <= len(values)


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service: Names | None = None
    ci: Names | None = None
    company: Names | None = None
    reported_source: list[ReportedSource] | None = None
    service_type: list[ServiceType] | None = None
    operational_category: Names | None = None
    product_category: Names | None = None
    summary_keywords: Names | None = None
    summary_regex: str | None = None
    _compiled: re.Pattern[str] | None = PrivateAttr(default=None)

    @field_validator("reported_source", "service_type", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("summary_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f"summary_regex {value!r} is not a valid regular expression: {exc}"
                ) from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if not any(getattr(self, name) for name in self.conditions()):
            raise ValueError("a match needs at least one condition")
        if self.summary_regex is not None:
            self._compiled = re.compile(self.summary_regex, re.IGNORECASE)
        return self

    @staticmethod
    def conditions() -> tuple[str, ...]:
        return (
            "service",
            "ci",
            "company",
            "reported_source",
            "service_type",
            "operational_category",
            "product_category",
            "summary_keywords",
            "summary_regex",
        )

    def test(self, incident: IncidentRequest) -> list[str] | None:
        """The conditions that held, in words; None when any condition failed."""
        held: list[str] = []
        for name in self.conditions():
            wanted = getattr(self, name)
            if not wanted:
                continue
            why = _CHECKS[name](wanted, incident, self)
            if why is None:
                return None
            held.append(why)
        return held


def _one_of(field: str) -> Any:
    def check(wanted: list[Any], incident: IncidentRequest, _m: Match) -> str | None:
        value = getattr(incident, field)
        plain = getattr(value, "value", value)
        options = [getattr(w, "value", w) for w in wanted]
        if plain is not None and str(plain).casefold() in {str(o).casefold() for o in options}:
            return f"{field} = {plain}"
        return None

    return check


def _category(prefix: str) -> Any:
    def check(wanted: list[str], incident: IncidentRequest, _m: Match) -> str | None:
        tiers = [getattr(incident, f"{prefix}_category_{n}") for n in (1, 2, 3)]
        for pattern in wanted:
            if _category_holds(pattern, tiers):
                return f"{prefix} categorization is {'/'.join(t or '-' for t in tiers)}"
        return None

    return check


def _keywords(wanted: list[str], incident: IncidentRequest, _m: Match) -> str | None:
    text = (incident.summary or "").casefold()
    for word in wanted:
        if re.search(rf"\b{re.escape(word.casefold())}\b", text):
            return f"summary mentions {word!r}"
    return None


def _regex(_wanted: str, incident: IncidentRequest, match: Match) -> str | None:
    assert match._compiled is not None
    found = match._compiled.search(incident.summary or "")
    return f"summary matches /{match.summary_regex}/" if found else None


_CHECKS = {
    "service": _one_of("service"),
    "ci": _one_of("ci"),
    "company": _one_of("company"),
    "reported_source": _one_of("reported_source"),
    "service_type": _one_of("service_type"),
    "operational_category": _category("operational"),
    "product_category": _category("product"),
    "summary_keywords": _keywords,
    "summary_regex": _regex,
}
