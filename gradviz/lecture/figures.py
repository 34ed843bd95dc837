"""The registry of the lecture's own figures: `FIGURES`, name -> what the figure is (a summary, animated or not).

Listing it imports neither torch nor matplotlib (the CLI's `gradviz list figures` and its name checks read
it). `gradviz.build_figure(name)` computes a figure's numbers (gradviz/lecture/topics.py and the modules
beside it) and draws them (gradviz/render/figure.py, render/seminar.py): a matplotlib Figure for a static
entry, a frame renderer for an animated one; `gradviz.figure(name)` writes it to a file.
"""

from __future__ import annotations

from dataclasses import dataclass


from gradviz.registry import Registry

__all__ = ["FigureSpec", "FIGURES"]


@dataclass(frozen=True)
class FigureSpec:
    """One lecture figure: its name, a one-line summary, and whether it is animated (a GIF)."""

    name: str
    summary: str
    animated: bool = False

    @property
    def suffix(self) -> str:
        return ".gif" if self.animated else ".png"


FIGURES: Registry = Registry("figure")
for _spec in (
    FigureSpec("losses", "0-1, hinge, logistic, squared and exponential loss against the margin y f(x); "
                         "log loss as -log p(y|x)"),
    FigureSpec("activations", "sigmoid, tanh, ReLU, leaky ReLU and their derivatives; max sigmoid' = 1/4, "
                              "saturation shaded"),
    FigureSpec("vanishing-bound", "the 0.25^n bound on products of sigmoid' against a deep MLP's measured "
                                  "sigmoid' product and gradient ratio, small and large weights"),
    FigureSpec("learning-rates", "GD on 1-D and 2-D quadratics: lr too small, right, oscillating, diverging"),
    FigureSpec("batch-size", "full-batch GD, mini-batch and SGD on the exact empirical risk of a 2-weight "
                             "logistic regression", animated=True),
    FigureSpec("momentum", "GD, heavy ball and Nesterov at one (lr, mu) in a ravine: momentum arrows, Nesterov's look-ahead",
               animated=True),
    FigureSpec("adam-bias", "Adam's m_t, v_t and bias-corrected estimates; the step with and without the "
                            "correction, and RMSprop's first steps"),
    FigureSpec("adaptive", "Adagrad, Adadelta, RMSprop, AdaBelief and Adam on one ill-conditioned quadratic at "
                           "hand-picked lrs (each converges in view; not tuned, so the loss ranking is no "
                           "verdict), with the step size each coordinate gets"),
    FigureSpec("regularization", "L1 and L2 constraint regions with the constrained optima; regularization "
                                 "paths"),
    FigureSpec("edge-of-stability", "full-batch GD at three step sizes: the top Hessian eigenvalue is driven to "
                                    "2/lr (rising from below, or pushed down from above) and hovers there while "
                                    "the loss falls, not monotonically (Cohen et al. 2021)"),
    FigureSpec("train-eval-no-grad", "what model.train()/eval(), torch.no_grad() and requires_grad_(False) each "
                                     "switch, measured on a net with Dropout and BatchNorm: eval() leaves "
                                     "requires_grad=True"),
    FigureSpec("gradient-accumulation", "the seminar's preds.grad after 1..5 backward() calls (-0.2 ... -1.0) and "
                                        "with zero_grad() between; 4 micro-batches with loss/4 = the full batch"),
    FigureSpec("no-free-lunch", "every learner's error on unseen points, averaged over all 256 labelings of a "
                                "3-bit cube (exactly 1/2 each) and over the 104 linearly separable ones"),
    FigureSpec("universal-approximation", "one-hidden-layer sigmoid nets of width 1, 3, 10, 50 fitting a "
                                          "continuous curve with a kink; max error against width and depth"),
    FigureSpec("empirical-risk", "empirical risk minimization as maximum likelihood: mean MSE and the Gaussian "
                                 "-log-likelihood share the argmin, mean BCE is the Bernoulli one; the empirical "
                                 "risk of a fixed slope closing in on the true risk as n grows, 20 seeds"),
    FigureSpec("data-augmentation", "16 points of a rotation-invariant 2-D task with 15 rotated copies each: the "
                                    "same MLP's held-out loss with and without the copies over 5 seeds"),
):
    FIGURES.register(_spec.name, _spec)
del _spec
