"""The public one-call pipelines, one module per command and named after it.

Each checks every input first (names, values, the output path), then traces or trains, renders and writes:
`trajectories.py` is `gradviz trajectories`, `boundary.py` is `gradviz boundary`, `gradflow.py` is
`gradviz gradflow`. Their renderers sit in `gradviz/render/` under the same names. The functions are
re-exported by `gradviz` itself (`gradviz.trajectories`, `gradviz.boundary`, ...), never here: importing a
submodule sets it as this package's attribute, which would shadow a function of the same name.
"""

__all__: list[str] = []
