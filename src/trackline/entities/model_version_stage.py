"""The deployment stages of a model version (MLflow's classic, deprecated-but-used workflow)."""

from __future__ import annotations

#: The stages a version can be transitioned to, in MLflow's spelling and order.
STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
ALL_STAGES: tuple[str, ...] = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
#: The stages from which ``archive_existing_versions`` may archive the other versions.
STAGES_THAT_ARCHIVE: tuple[str, ...] = (STAGE_STAGING, STAGE_PRODUCTION)
#: The stage stored for a deleted version (its number is kept, never reused).
STAGE_DELETED_INTERNAL = "Deleted_Internal"


def canonical_stage(stage: str) -> str | None:
    """The canonical spelling of ``stage`` (matched case-insensitively), or None if it is not
    one of :data:`ALL_STAGES`."""
    folded = stage.strip().lower()
    for known in ALL_STAGES:
        if known.lower() == folded:
            return known
    return None
