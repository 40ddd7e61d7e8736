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
from trackline.entities.paged_list import PagedList
from trackline.entities.param import Param
from trackline.entities.run import Run, RunData, RunInfo
from trackline.entities.run_status import RunStatus
from trackline.entities.tag import ExperimentTag, InputTag, RunTag
from trackline.entities.view_type import ViewType

__all__ = [
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
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]
