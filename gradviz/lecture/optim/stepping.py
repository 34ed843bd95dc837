"""One stepping rule for every optimizer: evaluate as a plain loop does, then `step(closure)`.

A plain first-order loop is `zero_grad(); loss = f(); loss.backward(); step()`. Closure optimizers (LBFGS,
SAM and its kind) are called as `step(closure)` and may call the closure several times at points of their
choosing; second-order ones (AdaHessian, Sophia) need `loss.backward(create_graph=True)`. `Stepper` does
all of it with one rule: `evaluate()` is the plain loop's evaluation at the current parameters (zero_grad,
loss, backward with `create_graph` when asked), and `step()` calls `optimizer.step(closure)`. The closure
evaluates again, unless nothing has moved since the last evaluation (same parameter and gradient tensors,
same versions): then it returns that loss, so LBFGS's first closure call costs nothing extra and a
first-order optimizer, which never calls it, takes exactly the plain loop's step.

Evaluations are counted by one rule: one evaluation of f (with its gradient when one is taken) counts
one, whether it is `evaluate()` or a closure call that had to compute; a closure call answered from the
last evaluation counts nothing. `max_evaluations` makes the closure raise `BudgetSpent` instead of
evaluating past the budget, so a method never spends more than it is given.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import torch

__all__ = ["Stepper", "BudgetSpent", "needs_create_graph", "SECOND_ORDER_HINTS", "cannot_step_message"]

# What torch says when an optimizer differentiates gradients that were computed without a graph.
SECOND_ORDER_HINTS = ("does not require grad and does not have a grad_fn", "create_graph")


class BudgetSpent(Exception):
    """Raised by the closure instead of evaluating past `max_evaluations`; the step it was in is void."""


class Stepper:
    """Drives `optimizer` over `params` on `objective` (a callable returning the scalar loss to minimize).

    backward: take gradients (False for gradient-free methods, which only read the loss).
    after_backward: called after each backward pass (e.g. gradient clipping), as a plain loop would.
    """

    def __init__(self, optimizer: Any, params: Sequence[torch.Tensor], objective: Callable[[], torch.Tensor], *,
                 backward: bool = True, create_graph: bool = False,
                 after_backward: Callable[[], None] | None = None, max_evaluations: int | None = None) -> None:
        self.optimizer = optimizer
        self.params = list(params)
        self.objective = objective
        self.backward = backward
        self.create_graph = create_graph
        self.after_backward = after_backward
        self.max_evaluations = max_evaluations
        self.evaluations = 0
        self._last: tuple[Any, torch.Tensor] | None = None  # (fingerprint, loss) of the last evaluation

    def _fingerprint(self) -> tuple:
        return tuple((p._version, id(p.grad), None if p.grad is None else p.grad._version) for p in self.params)

    def evaluate(self) -> torch.Tensor:
        """zero_grad, loss, backward: the evaluation of a plain loop at the current parameters."""
        if self.max_evaluations is not None and self.evaluations >= self.max_evaluations:
            raise BudgetSpent
        self.evaluations += 1
        if self.backward:
            self.optimizer.zero_grad()
            with torch.enable_grad(), warnings.catch_warnings():
                # create_graph ties each gradient to its parameter: gradviz clears them when the run ends
                warnings.filterwarnings("ignore", "Using backward\\(\\) with create_graph=True")
                loss = self.objective()
                loss.backward(create_graph=self.create_graph)
            if self.after_backward is not None:
                self.after_backward()
        else:
            with torch.no_grad():
                loss = self.objective()
        self._last = (self._fingerprint(), loss)
        return loss

    def closure(self) -> torch.Tensor:
        """What `optimizer.step` calls: the last loss if nothing moved since, else a new evaluation."""
        if self._last is not None and self._last[0] == self._fingerprint():
            return self._last[1]
        return self.evaluate()

    def step(self) -> Any:
        """optimizer.step(closure); returns what the optimizer returns."""
        return self.optimizer.step(self.closure)


def needs_create_graph(build: Callable[[list[torch.Tensor]], Any], shapes: Sequence[tuple[int, ...]],
                       dtype: torch.dtype = torch.float64) -> bool:
    """Whether an optimizer differentiates its gradients (AdaHessian, Sophia): one probe step on copies.

    `build(params)` makes the optimizer. The probe steps it once on throwaway parameters of the given
    shapes over a quadratic, with a plain backward, in a forked random state, and looks for the error torch
    raises when gradients have no graph. Nothing of the caller's parameters or random state is touched.
    Any other failure of that step (a class that needs sparse gradients, matrices, a process group, a GPU)
    is InvalidArgument saying what the class needs, before any real work starts.
    """
    from gradviz.registry import InvalidArgument

    probe = [torch.full(shape, 0.5, dtype=dtype, requires_grad=True) for shape in shapes]
    with torch.random.fork_rng(devices=[]):
        optimizer = build(probe)
        stepper = Stepper(optimizer, probe, lambda: sum((p * p).sum() for p in probe))
        try:
            stepper.evaluate()
            stepper.step()
        except InvalidArgument:
            raise
        except RuntimeError as error:
            if any(hint in str(error) for hint in SECOND_ORDER_HINTS):
                return True
            raise InvalidArgument(cannot_step_message(type(optimizer), error, shapes)) from None
        except Exception as error:  # noqa: BLE001 - whatever a foreign class raises, the user gets one line
            raise InvalidArgument(cannot_step_message(type(optimizer), error, shapes)) from None
    return False


def cannot_step_message(cls: type, error: BaseException, shapes: Sequence[tuple[int, ...]] = ((2,),)) -> str:
    """One line saying what an optimizer class that failed its first step needs, read from the error it
    raised and its docstring (pytorch-optimizer documents its matrix-only and distributed classes there)."""
    text = f"{error}".strip().splitlines()[0] if str(error).strip() else type(error).__name__
    doc = (cls.__doc__ or "").lower()
    lowered = text.lower()
    what = "a (2,) point" if list(shapes) == [(2,)] else "these parameters"
    if isinstance(error, ImportError):
        need = f"a package that is not installed ({text})"
    elif "sparse" in lowered:
        need = "sparse gradients (from nn.Embedding(sparse=True)); a point's gradient is dense"
    elif "process group" in lowered or "process group" in doc or "init_process_group" in lowered:
        need = "an initialized torch.distributed process group (run it under torchrun in your own loop)"
    elif ("2d" in lowered or "ndim" in lowered or "2d param" in doc or "ndim >= 2" in doc
          or "muon" in cls.__name__.lower()):
        need = "2-D (matrix) parameters, such as a linear layer's weight"
    elif "cuda" in lowered:
        need = "a CUDA device"
    elif "dtype" in lowered or "double" in lowered:
        need = f"another dtype than float64 ({text})"
    else:
        return f"optimizer {cls.__name__} cannot step {what}: {type(error).__name__}: {text}"
    return f"optimizer {cls.__name__} cannot step {what}: it needs {need}"
