"""Lifecycle stages of experiments and runs (soft delete)."""

from __future__ import annotations

from trackline.entities.view_type import ViewType


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"
    _VALID = (ACTIVE, DELETED)

    @classmethod
    def view_type_to_stages(cls, view_type: int = ViewType.ALL) -> list[str]:
        stages = []
        if view_type in (ViewType.ACTIVE_ONLY, ViewType.ALL):
            stages.append(cls.ACTIVE)
        if view_type in (ViewType.DELETED_ONLY, ViewType.ALL):
            stages.append(cls.DELETED)
        return stages

    @classmethod
    def is_valid(cls, lifecycle_stage: str) -> bool:
        return lifecycle_stage in cls._VALID

    @classmethod
    def matches_view_type(cls, view_type: int, lifecycle_stage: str) -> bool:
        return lifecycle_stage in cls.view_type_to_stages(view_type)
