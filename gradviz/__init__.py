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
    "trace": "gradviz.tracing",
    "animate": "gradviz.pipelines.trajectories",
    "trajectories": "gradviz.pipelines.trajectories",
    "Trajectory": "gradviz.records",
    "Surface": "gradviz.records",
    "TestFunction": "gradviz.functions",
    "FUNCTIONS": "gradviz.functions",
    "get_function": "gradviz.functions",
    "OPTIMIZERS": "gradviz.optim",
    "OptimizerSpec": "gradviz.optim",
    "get_optimizer": "gradviz.optim",
    "AdaBelief": "gradviz.optim.adabelief",
    "NelderMead": "gradviz.optim.direct",
    "PatternSearch": "gradviz.optim.direct",
    "RandomSearch": "gradviz.optim.direct",
    "PureRandomSearch": "gradviz.optim.direct",
    "CMAES": "gradviz.optim.direct",
    "SimulatedAnnealing": "gradviz.optim.direct",
    "GeometryLayer": "gradviz.render.geometry",
    "TrajectoryRenderer": "gradviz.render.trajectories",
    "THEMES": "gradviz.render.theme",
    "InvalidArgument": "gradviz.registry",
    "TrainingRun": "gradviz.records",
    "DATASETS": "gradviz.nets.data",
    "make_dataset": "gradviz.nets.data",
    "train_val_split": "gradviz.nets.data",
    "ACTIVATIONS": "gradviz.nets.choices",
    "INITS": "gradviz.nets.choices",
    "mlp": "gradviz.nets.models",
    "train": "gradviz.nets.training",
    "boundary": "gradviz.pipelines.boundary",
    "BoundaryRenderer": "gradviz.render.boundary",
    "GradientLog": "gradviz.records",
    "record_gradients": "gradviz.gradients",
    "deep_mlp": "gradviz.gradients",
    "gradflow_experiment": "gradviz.gradients",
    "gradflow": "gradviz.pipelines.gradflow",
    "diagnose": "gradviz.diagnosis",
    "plot_depth_profile": "gradviz.render.gradflow",
    "plot_heatmap": "gradviz.render.gradflow",
    "plot_bars": "gradviz.render.gradflow",
    "plot_clipping": "gradviz.render.gradflow",
    "plot_update_ratio": "gradviz.render.gradflow",
    "plot_grid": "gradviz.render.gradflow",
    "FIGURES": "gradviz.figures",
    "figure": "gradviz.pipelines.figure",
    "expression": "gradviz.expressions",
    "PRESETS": "gradviz.render.theme",
    "use_preset": "gradviz.render.theme",
    "landscape": "gradviz.nets.landscape",
    "random_directions": "gradviz.nets.landscape",
    "pca_directions": "gradviz.nets.landscape",
    "line_between": "gradviz.nets.landscape",
    "PathProjection": "gradviz.records",
    "landscape_animation": "gradviz.pipelines.landscape",
    "model_landscape": "gradviz.pipelines.landscape",
    "gradflow_model": "gradviz.gradients",
    "plot_landscape": "gradviz.render.landscape",
    "plot_curve": "gradviz.render.landscape",
    "LandscapeRenderer": "gradviz.render.landscape",
    "Surface3DRenderer": "gradviz.render.surface3d",
    "lr_sweep": "gradviz.compare",
    "noise_bundle": "gradviz.compare",
    "trace_swarm": "gradviz.compare",
    "basin_map": "gradviz.compare",
    "tune": "gradviz.compare",
    "Swarm": "gradviz.records",
    "BasinMap": "gradviz.records",
    "TuningTable": "gradviz.records",
    "SCHEDULERS": "gradviz.schedules",
    "OBJECTIVES": "gradviz.grids",
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
