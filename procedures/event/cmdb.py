"""A snapshot of the CMDB's shape: which CIs exist, what depends on what, which are services.

Event Handling asks two questions of every event: which service infrastructures does this CI
support (walk up the dependencies to the business services), and which CIs does it depend on
(walk down, to find a failure elsewhere that explains it). The CMDB changes slowly and events
come in storms, so the runtime loads this once and refreshes it now and then instead of asking
the ITSM per event.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from connector.base import Connector
from connector.entities import ConfigurationItem, RecordKind, Relation, Service
from connector.enums import RelationType


@dataclass
class CmdbSnapshot:
    by_id: dict[str, ConfigurationItem] = field(default_factory=dict)
    by_name: dict[str, ConfigurationItem] = field(default_factory=dict)
    services: set[str] = field(default_factory=set)
    depends_on: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    used_by: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def load(cls, connector: Connector) -> CmdbSnapshot:
        return cls.of(
            connector.find(ConfigurationItem),
            connector.find(Relation, within=RecordKind.CI),
            (s.name for s in connector.find(Service) if s.name),
        )

    @classmethod
    def of(
        cls,
        cis: Iterable[ConfigurationItem],
        relations: Iterable[Relation],
        services: Iterable[str],
    ) -> CmdbSnapshot:
        snap = cls()
        for ci in cis:
            if ci.id:
                snap.by_id[ci.id] = ci
            if ci.name:
                snap.by_name[ci.name.casefold()] = ci
        snap.services = {s.casefold() for s in services}
        for rel in relations:
            if rel.relation_type is RelationType.DEPENDS_ON:
                snap.depends_on[rel.source_id].add(rel.target_id)
                snap.used_by[rel.target_id].add(rel.source_id)
        return snap

    def find(self, name: str | None) -> ConfigurationItem | None:
        return self.by_name.get(name.casefold()) if name else None

    def supported_services(self, ci: ConfigurationItem, depth: int = 6) -> list[str]:
        """Business services that depend on `ci`, nearest first (the CI itself if it is one)."""
        found = [n for n in self._walk(ci, self.used_by, depth) if n.casefold() in self.services]
        own = [ci.name] if ci.name and ci.name.casefold() in self.services else []
        return list(dict.fromkeys([*own, *found]))

    def dependencies(self, ci: ConfigurationItem, depth: int = 3) -> list[str]:
        """Names of the CIs `ci` depends on, nearest first, up to `depth` hops."""
        return [
            n for n in self._walk(ci, self.depends_on, depth) if n.casefold() not in self.services
        ]

    def _name_of(self, ci_id: str) -> str:
        node = self.by_id.get(ci_id)
        return (node.name or ci_id) if node is not None else ci_id

    def _walk(self, ci: ConfigurationItem, edges: dict[str, set[str]], depth: int) -> list[str]:
        """Breadth first, neighbours by name: nearest first, and the same order every run."""
        if not ci.id:
            return []
        seen, order = {ci.id}, []
        queue = deque([(ci.id, 0)])
        while queue:
            current, hops = queue.popleft()
            if hops == depth:
                continue
            for nxt in sorted(edges.get(current, ()), key=self._name_of):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, hops + 1))
                    node = self.by_id.get(nxt)
                    if node is not None and node.name:
                        order.append(node.name)
        return order
