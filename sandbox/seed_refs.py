"""Cross-references in a seed: every login, group, company, service, CI and ticket `ref` a seed
entry names must be defined in the same seed. Each problem is reported with its key path
(`incidents[2].customer: no login 'zed' in this seed`)."""

from __future__ import annotations

from sandbox.seed_format import Seed


def unknown_references(seed: Seed) -> list[str]:
    """Every cross-reference that names something the seed does not define."""
    logins = {p.login for p in seed.people}
    groups = {g.name for g in seed.support_groups}
    companies = {c.name for c in seed.companies}
    services = {s.name for s in seed.services}
    items = services | {c.name for c in seed.cis}
    refs = {t.ref for t in (*seed.incidents, *seed.problems, *seed.changes) if t.ref}
    kinds = {
        "login": logins,
        "support group": groups,
        "company": companies,
        "service": services,
        "CI": items,
        "ticket ref": refs,
    }
    out: list[str] = []
    for where, kind, value in _references(seed):
        if value is not None and value not in kinds[kind]:
            out.append(f"{where}: no {kind} {value!r} in this seed")
    names = [s.name for s in seed.services] + [c.name for c in seed.cis]
    out.extend(
        f"cis: the name {n!r} is used twice" for n in sorted(set(names)) if names.count(n) > 1
    )
    return out


def _references(seed: Seed) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    out += [(f"people[{i}].company", "company", p.company) for i, p in enumerate(seed.people)]
    out += [(f"people[{i}].manager", "login", p.manager) for i, p in enumerate(seed.people)]
    for i, g in enumerate(seed.support_groups):
        out += [
            (f"support_groups[{i}].company", "company", g.company),
            (f"support_groups[{i}].coordinator", "login", g.coordinator),
        ]
        out += [(f"support_groups[{i}].members", "login", m) for m in g.members]
    for i, s in enumerate(seed.services):
        for key in (
            "owner",
            "change_coordinator",
            "problem_coordinator",
            "capacity_manager",
            "availability_manager",
        ):
            out.append((f"services[{i}].{key}", "login", getattr(s, key)))
        out.append((f"services[{i}].support_group", "support group", s.support_group))
        out += [(f"services[{i}].depends_on", "CI", d) for d in s.depends_on]
    for i, c in enumerate(seed.cis):
        out += [(f"cis[{i}].depends_on", "CI", d) for d in c.depends_on]
    for i, sla in enumerate(seed.slas):
        out += [(f"slas[{i}].services", "service", s) for s in sla.services]
    out += _ticket_references(seed)
    for i, a in enumerate(seed.knowledge_articles):
        where = f"knowledge_articles[{i}]"
        out += [
            (f"{where}.author", "login", a.author),
            (f"{where}.assignee", "login", a.assignee),
            (f"{where}.proposing_group", "support group", a.proposing_group),
            (f"{where}.assigned_group", "support group", a.assigned_group),
            (f"{where}.source", "ticket ref", a.source),
        ]
    for i, r in enumerate(seed.relations):
        out += [
            (f"relations[{i}].from", "ticket ref", r.source),
            (f"relations[{i}].to", "ticket ref", r.target),
        ]
    return out


def _ticket_references(seed: Seed) -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    for name, tickets in (
        ("incidents", seed.incidents),
        ("problems", seed.problems),
        ("changes", seed.changes),
    ):
        for i, t in enumerate(tickets):
            where = f"{name}[{i}]"
            out += [
                (f"{where}.service", "service", t.service),
                (f"{where}.assigned_group", "support group", t.assigned_group),
            ]
            for key in ("customer", "assignee", "coordinator"):
                out.append((f"{where}.{key}", "login", getattr(t, key, None)))
            out.append((f"{where}.ci", "CI", getattr(t, "ci", None)))
            out.append(
                (
                    f"{where}.coordinator_group",
                    "support group",
                    getattr(t, "coordinator_group", None),
                )
            )
            out += [
                (f"{where}.notes[{j}].author", "login", n.author)
                for j, n in enumerate(getattr(t, "notes", []))
            ]
    return out
