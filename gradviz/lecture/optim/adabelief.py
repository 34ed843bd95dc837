"""AdaBelief (Zhuang et al., NeurIPS 2020) as a torch.optim.Optimizer, without rectification."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import torch
from torch.optim import Optimizer

__all__ = ["AdaBelief"]


class AdaBelief(Optimizer):
    r"""AdaBelief: Adam whose second moment tracks the *belief* (g - m)^2 instead of g^2.

    From "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients" (Zhuang, Tang,
    Ding, Tatikonda, Dvornek, Papademetris, Duncan; NeurIPS 2020), matching the authors' reference
    implementation (adabelief-pytorch 0.2) with ``rectify=False``. For each parameter, at step t:

    .. math::
        \theta_t &\leftarrow \theta_{t-1} (1 - \gamma\lambda)   \quad\text{(decoupled weight decay), or }
                    g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        s_t &= \beta_2 s_{t-1} + (1 - \beta_2) (g_t - m_t)^2 + \epsilon \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
                    \frac{m_t}{\sqrt{s_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    Note the two epsilons of the reference: one added inside the running average (it accumulates in the
    state) and one added to the denominator. With amsgrad the running maximum of s_t is used instead.

    Args:
        params: parameters or parameter groups.
        lr (gamma): learning rate (default 1e-3).
        betas: (beta1, beta2) for the first moment and the belief (default (0.9, 0.999)).
        eps: added inside s_t and to the denominator (default 1e-16, the authors' recommendation; their
            README: eps_adabelief ~ eps_adam^2).
        weight_decay (lambda): weight decay factor (default 0).
        weight_decouple: decoupled (AdamW-style) decay, True by default as in the reference.
        fixed_decay: with weight_decouple, decay by (1 - lambda) rather than (1 - gamma lambda).
        amsgrad: use the running maximum of s_t (default False).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: float = 0.0,
        weight_decouple: bool = True,
        fixed_decay: bool = False,
        amsgrad: bool = False,
    ) -> None:
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0.0):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0.0):
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"Invalid betas: {betas} (expected two numbers)")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        if not (math.isfinite(weight_decay) and weight_decay >= 0.0):
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        weight_decouple=weight_decouple, fixed_decay=fixed_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            decay = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if grad.is_sparse:
                    raise RuntimeError("AdaBelief does not support sparse gradients")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_var"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if group["amsgrad"]:
                        state["max_exp_avg_var"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if decay != 0:
                    if group["weight_decouple"]:
                        p.mul_(1.0 - (decay if group["fixed_decay"] else lr * decay))
                    else:
                        grad = grad.add(p, alpha=decay)
                state["step"] += 1
                step = state["step"]
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                exp_avg, exp_avg_var = state["exp_avg"], state["exp_avg_var"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                residual = grad - exp_avg
                exp_avg_var.mul_(beta2).addcmul_(residual, residual, value=1 - beta2)
                exp_avg_var.add_(eps)
                if group["amsgrad"]:
                    max_var = state["max_exp_avg_var"]
                    torch.maximum(max_var, exp_avg_var, out=max_var)
                    second = max_var
                else:
                    second = exp_avg_var
                denom = (second.sqrt() / math.sqrt(bias_correction2)).add_(eps)
                p.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)
        return loss
