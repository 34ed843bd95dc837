"""gradviz: see how neural networks learn.

Optimizer trajectories over 2-D test functions, as GIFs and figures ready for a lecture slide::

    import gradviz
    paths = [gradviz.trace("rosenbrock", name, steps=200) for name in ("sgd", "momentum", "adam")]
    gradviz.animate(paths, "rosenbrock.gif")

Names are loaded on first use, so `import gradviz` (and the CLI's --help) does not import torch.
"""

import importlib as _importlib

__version__ = "0.1.0"

_EXPORTS = {
    "trace": "gradviz.lecture.tracing",
    "animate": "gradviz.pipelines.trajectories",
    "trajectories": "gradviz.pipelines.trajectories",
    "Trajectory": "gradviz.records",
    "Surface": "gradviz.records",
    "TestFunction": "gradviz.lecture.functions",
    "FUNCTIONS": "gradviz.lecture.functions",
    "get_function": "gradviz.lecture.expressions",
    "OPTIMIZERS": "gradviz.lecture.optim",
    "OptimizerSpec": "gradviz.lecture.optim",
    "get_optimizer": "gradviz.lecture.optim",
    "AdaBelief": "gradviz.lecture.optim.adabelief",
    "NelderMead": "gradviz.lecture.optim.direct",
    "PatternSearch": "gradviz.lecture.optim.direct",
    "RandomSearch": "gradviz.lecture.optim.direct",
    "PureRandomSearch": "gradviz.lecture.optim.direct",
    "CMAES": "gradviz.lecture.optim.direct",
    "SimulatedAnnealing": "gradviz.lecture.optim.direct",
    "GeometryLayer": "gradviz.render.geometry",
    "TrajectoryRenderer": "gradviz.render.trajectories",
    "THEMES": "gradviz.render.theme",
    "RenderOptions": "gradviz.render.options",
    "InvalidArgument": "gradviz.registry",
    "TrainingRun": "gradviz.records",
    "DATASETS": "gradviz.lecture.data",
    "make_dataset": "gradviz.lecture.data",
    "train_val_split": "gradviz.lecture.data",
    "ACTIVATIONS": "gradviz.lecture.choices",
    "INITS": "gradviz.lecture.choices",
    "mlp": "gradviz.lecture.models",
    "train": "gradviz.lecture.training",
    "boundary": "gradviz.pipelines.boundary",
    "BoundaryRenderer": "gradviz.render.boundary",
    "GradientLog": "gradviz.records",
    "record_gradients": "gradviz.analysis.gradients",
    "deep_mlp": "gradviz.lecture.deepnets",
    "gradflow_experiment": "gradviz.lecture.deepnets",
    "gradflow": "gradviz.pipelines.gradflow",
    "diagnose": "gradviz.analysis.diagnosis",
    "plot_depth_profile": "gradviz.render.gradflow",
    "plot_heatmap": "gradviz.render.gradflow",
    "plot_bars": "gradviz.render.gradflow",
    "plot_clipping": "gradviz.render.gradflow",
    "plot_update_ratio": "gradviz.render.gradflow",
    "plot_grid": "gradviz.render.gradflow",
    "FIGURES": "gradviz.lecture.figures",
    "figure": "gradviz.pipelines.figure",
    "build_figure": "gradviz.pipelines.figure",
    "expression": "gradviz.lecture.expressions",
    "PRESETS": "gradviz.render.theme",
    "use_preset": "gradviz.render.theme",
    "landscape": "gradviz.analysis.landscape",
    "hessian": "gradviz.analysis.curvature",
    "sharpness_run": "gradviz.analysis.curvature",
    "DataSource": "gradviz.analysis.sources",
    "random_directions": "gradviz.analysis.landscape",
    "pca_directions": "gradviz.analysis.landscape",
    "line_between": "gradviz.analysis.landscape",
    "PathProjection": "gradviz.records",
    "landscape_animation": "gradviz.pipelines.landscape",
    "model_landscape": "gradviz.pipelines.landscape",
    "gradflow_model": "gradviz.analysis.gradients",
    "plot_landscape": "gradviz.render.landscape",
    "plot_curve": "gradviz.render.landscape",
    "LandscapeRenderer": "gradviz.render.landscape",
    "Surface3DRenderer": "gradviz.render.surface3d",
    "lr_sweep": "gradviz.lecture.compare",
    "noise_bundle": "gradviz.lecture.compare",
    "trace_swarm": "gradviz.lecture.compare",
    "basin_map": "gradviz.lecture.compare",
    "tune": "gradviz.lecture.compare",
    "Swarm": "gradviz.records",
    "BasinMap": "gradviz.records",
    "TuningTable": "gradviz.records",
    "SCHEDULERS": "gradviz.lecture.schedules",
    "OBJECTIVES": "gradviz.lecture.grids",
    "sweep": "gradviz.pipelines.sweep",
    "basins": "gradviz.pipelines.basins",
    "plot_lr_curve": "gradviz.render.compare",
    "plot_basin_map": "gradviz.render.compare",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gradviz' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # Only the public names: not the helpers of this file, nor submodules that imports set as attributes.
    return list(__all__)
