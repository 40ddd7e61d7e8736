"""Plain data classes with MLflow's names and attributes. They import nothing internal."""

from trackline.entities.dataset import (
    Dataset,
    DatasetInput,
    LoggedModelInput,
    LoggedModelOutput,
    RunInputs,
    RunOutputs,
)
from trackline.entities.experiment import Experiment
from trackline.entities.file_info import FileInfo
from trackline.entities.lifecycle_stage import LifecycleStage
from trackline.entities.logged_model import LoggedModel
from trackline.entities.logged_model_parameter import LoggedModelParameter
from trackline.entities.logged_model_status import LoggedModelStatus
from trackline.entities.logged_model_tag import LoggedModelTag
from trackline.entities.metric import Metric
from trackline.entities.metric_history import MetricHistory
from trackline.entities.model_version import ModelVersion
from trackline.entities.model_version_stage import ALL_STAGES, canonical_stage
from trackline.entities.model_version_status import ModelVersionStatus
from trackline.entities.paged_list import PagedList
from trackline.entities.param import Param
from trackline.entities.registered_model import RegisteredModel
from trackline.entities.registered_model_tag import (
    ModelVersionTag,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from trackline.entities.registry_event import REGISTRY_ACTIONS, RegistryEvent
from trackline.entities.run import Run, RunData, RunInfo
from trackline.entities.run_columns import RunColumns
from trackline.entities.run_status import RunStatus
from trackline.entities.tag import ExperimentTag, InputTag, RunTag
from trackline.entities.view_type import ViewType

__all__ = [
    "ALL_STAGES",
    "REGISTRY_ACTIONS",
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelParameter",
    "LoggedModelStatus",
    "LoggedModelTag",
    "Metric",
    "MetricHistory",
    "ModelVersion",
    "ModelVersionStatus",
    "ModelVersionTag",
    "PagedList",
    "Param",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "RegistryEvent",
    "Run",
    "RunColumns",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
    "canonical_stage",
]
