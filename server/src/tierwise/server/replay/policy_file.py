"""The replayed policy as the file replay writes: a content-addressed version, then the
policy rendered by the one policy writer (routing.policy.render_policy)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

from tierwise.server.routing.policy import Policy, render_policy


def replay_policy_text(
    policy: Policy, *, description: str, head_note: str = "", today: datetime | None = None
) -> str:
    """TOML for ``policy`` with version ``replay-<date>-<digest of everything after the
    version line>``: the same numbers always get the same version on the same day."""
    unversioned = render_policy(
        dataclasses.replace(policy, version="replay"), description=description, head_note=head_note
    )
    body = unversioned.split("\n", 1)[1]
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:10]
    stamp = (today or datetime.now(UTC)).strftime("%Y%m%d")
    return render_policy(
        dataclasses.replace(policy, version=f"replay-{stamp}-{digest}"),
        description=description,
        head_note=head_note,
    )
