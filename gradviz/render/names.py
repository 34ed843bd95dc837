"""Names that tracing writes into records and renderers draw, marked for translation here (records keep
them in English: they are identifiers too); a renderer or pipeline translates one with `_()` when it draws it.
Imports neither torch nor matplotlib."""

from __future__ import annotations

from gradviz.i18n import N_

__all__ = ["DATASET_NAMES", "ACTIVATION_NAMES", "INIT_NAMES", "VERDICTS", "QUANTITIES", "PLANE_KINDS", "NORM_NAMES",
           "TRAINING_OBJECTIVES"]

DATASET_NAMES = (N_("linear"), N_("moons"), N_("circles"), N_("xor"), N_("spirals"), N_("blobs"), N_("pinwheel"))
ACTIVATION_NAMES = (N_("sigmoid"), N_("tanh"), N_("relu"), N_("leaky-relu"), N_("gelu"), N_("elu"), N_("identity"))
INIT_NAMES = (N_("default"), N_("xavier"), N_("he"), N_("normal"), N_("scaled"))
# gradviz.analysis.diagnosis's verdicts, and the quantities a gradient log holds
VERDICTS = (N_("vanishing"), N_("exploding"), N_("healthy"), N_("one layer"), N_("two layers"), N_("non-finite"),
            N_("no gradient"))
QUANTITIES = (N_("signal"), N_("weight"))
# gradviz.analysis.choices's planes and normalizations, named in axis labels and titles
PLANE_KINDS = (N_("random"), N_("pca"), N_("line"), N_("hessian"))
NORM_NAMES = (N_("filter"), N_("layer"), N_("none"))
# gradviz boundary's tuning objectives, said of the training loss (pipelines/boundary.py rewrites f - f*)
TRAINING_OBJECTIVES = (N_("final training loss"), N_("mean log10(training loss) over the steps"),
                       N_("steps until training loss <= tol"))
