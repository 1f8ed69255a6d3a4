"""Live views for JupyterLab (ipywidgets): one builder per chapter, each returning a widget to display.

``confusion_explorer`` (chapter 1), ``spirals_playground`` (2), ``encoder_snapshots`` and ``state_snapshots`` (3),
``feature_map_viewer`` (4b), ``code_explorer`` (5). Each callback redraws a matplotlib figure off-screen into an
``ipywidgets.Image``, so a view needs a running kernel; the static site shows the run's figures instead.
"""

from .codes import code_explorer
from .confusion import confusion_explorer
from .feature_maps import feature_map_viewer
from .playground import spirals_playground
from .render import find_widget
from .snapshots import encoder_snapshots, snapshot_slider, state_snapshots

__all__ = [
    "code_explorer",
    "confusion_explorer",
    "encoder_snapshots",
    "feature_map_viewer",
    "find_widget",
    "snapshot_slider",
    "spirals_playground",
    "state_snapshots",
]
