"""`smpm demo`: the product on the embedded sandbox ITSM, end to end (see `story`).

`story` tells it and holds the demo's settings (`demo.toml` beside it); `clock` is the demo's own
clock, `events` the monitoring events posted to the webhook service, `tracking` the tracking
procedures and the managers' reports. The story's names are importable from here; they are
loaded on first use, so that `smpm --help`, which reads the demo's default start from `clock`,
does not start by importing the sandbox and the webhook service.
"""

from __future__ import annotations

from typing import Any

_STORY = ("DEMO_SETTINGS", "demo_settings", "run_demo", "sandbox_access")
__all__ = list(_STORY)


def __getattr__(name: str) -> Any:
    if name in _STORY:
        from smpm.demo import story  # noqa: PLC0415 - loaded on first use, as said above

        return getattr(story, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
