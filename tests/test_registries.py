"""Each choice list is one Registry: the CLI's option types, the library's checks and the torch code behind
each entry all read it, and these tests keep them equal."""

import click

from gradviz.analysis import choices as analysis_choices
from gradviz.cli import cli
from gradviz.cli.options import NameType, WordListType, registry_at
from gradviz.registry import Registry
from gradviz.render import choices as render_choices


def _registries_of_options():
    found = {}
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param.type, NameType):
                found.setdefault(id(param.type.registry), (param.type.registry, []))[1].append(f"{name} {param.name}")
            elif isinstance(param.type, WordListType):
                registry = registry_at(param.type.registry_path)
                found.setdefault(id(registry), (registry, []))[1].append(f"{name} {param.name}")
            assert not isinstance(param.type, click.Choice) or param.name == "what", (
                f"{name} --{param.name}: a literal click.Choice, not a registry")
    return found


def test_every_option_with_choices_reads_a_registry_and_every_registry_has_its_options():
    found = _registries_of_options()
    for module in (analysis_choices, render_choices):
        for attr in module.__all__:
            value = getattr(module, attr)
            if isinstance(value, Registry) and attr != "LOSSES":  # --loss also takes MODULE:FUNCTION
                assert id(value) in found, f"{module.__name__}.{attr} is read by no CLI option"
    landscape = {param.name: param.type for param in cli.commands["landscape"].params}
    assert landscape["plane"].registry is analysis_choices.PLANES
    assert landscape["norm"].registry is analysis_choices.NORMS
    assert landscape["metric"].registry is analysis_choices.METRICS
    assert landscape["view"].registry is render_choices.VIEWS
    gradflow = {param.name: param.type for param in cli.commands["gradflow"].params}
    assert gradflow["panel"].registry is render_choices.PANELS


def test_the_torch_side_of_each_registry_has_the_same_entries():
    from gradviz.analysis.landscape import PLANE_BUILDERS
    from gradviz.analysis.losses import LOSSES

    assert list(PLANE_BUILDERS) == list(analysis_choices.PLANES)
    assert set(LOSSES) == set(analysis_choices.LOSSES)


def test_a_plane_that_needs_runs_is_refused_without_them_and_a_line_has_one_axis():
    import pytest
    import torch

    from gradviz import landscape
    from gradviz.registry import InvalidArgument

    model = torch.nn.Linear(2, 1)
    data = (torch.randn(8, 2), torch.rand(8, 1).round())
    for name, choice in analysis_choices.PLANES.items():
        if choice.needs_runs:
            with pytest.raises(InvalidArgument, match=f"directions='{name}' needs runs="):
                landscape(model, data, directions=name, grid=3)
    assert [name for name, c in analysis_choices.PLANES.items() if c.line] == ["line"]
