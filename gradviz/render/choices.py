"""The choice lists of drawing, readable without importing matplotlib: views, gradient-flow panels and
vector-field styles. The CLI's option types and the pipelines' checks read these registries."""

from __future__ import annotations

from gradviz.registry import Choice, registry_of

__all__ = ["VIEWS", "PANELS", "FIELD_STYLES"]


VIEWS = registry_of(
    "view",
    Choice("2d", "contours from above"),
    Choice("3d", "the surface in perspective, the paths riding on it"),
)

PANELS = registry_of(
    "panel",
    Choice("summary", "the depth profile over the layers x steps heatmap, with each run's diagnosis"),
    Choice("profile", "gradient norm per layer (backward signal and weight gradient) at one step"),
    Choice("heatmap", "layers x steps image of log10 gradient norms"),
    Choice("bars", "mean and max weight-gradient norm per layer over the steps"),
    Choice("clipping", "total gradient norm before and after clipping against the step"),
    Choice("ratio", "||update|| / ||W|| per layer against the step"),
    Choice("grid", "small multiples of depth profiles on one shared scale, each with its diagnosis"),
)

FIELD_STYLES = registry_of(
    "field style",
    Choice("arrows", "normalized negative gradient as arrows"),
    Choice("streamlines", "normalized negative gradient as streamlines"),
)
