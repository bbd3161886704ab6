"""Optimiser helpers of the agents' update steps (private)."""

import numpy as np
import torch


def optimizer_step(optimizer):
    """``optimizer.step()``; for a plain ``torch.optim.RMSprop`` (SB3's A2C setting: no
    momentum, not centred, no weight decay, no hooks, state already initialised) the
    same foreach operations as its multi-tensor implementation, without the per-call
    dispatch (hooks, compile guards, grouping by device), which costs more than the
    arithmetic on A2C's small networks."""
    from torch.optim import optimizer as optim_module

    if (type(optimizer) is not torch.optim.RMSprop or optimizer._optimizer_step_pre_hooks
            or optimizer._optimizer_step_post_hooks
            or optim_module._global_optimizer_pre_hooks
            or optim_module._global_optimizer_post_hooks):
        return optimizer.step()
    work = []
    for group in optimizer.param_groups:
        if (group["momentum"] or group["centered"] or group["weight_decay"]
                or group["maximize"] or group["capturable"] or group["differentiable"]
                or isinstance(group["lr"], torch.Tensor)):
            return optimizer.step()
        params, grads, squares, steps = [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            state = optimizer.state.get(p)
            if (not state or p.grad.is_sparse or p.is_complex() or p.device.type != "cpu"
                    or p.dtype != torch.float32):
                return optimizer.step()
            params.append(p)
            grads.append(p.grad)
            squares.append(state["square_avg"])
            steps.append(state["step"])
        if params:
            work.append((group, params, grads, squares, steps))
    with torch.no_grad():
        one = torch.tensor(1.0)
        for group, params, grads, squares, steps in work:
            alpha = group["alpha"]
            torch._foreach_add_(steps, one, alpha=1.0)
            torch._foreach_mul_(squares, alpha)
            torch._foreach_addcmul_(squares, grads, grads, value=1 - alpha)
            avg = torch._foreach_sqrt(squares)
            torch._foreach_add_(avg, group["eps"])
            torch._foreach_addcdiv_(params, grads, avg, value=-group["lr"])
    return None


def explained_variance(y_pred, y_true):
    """``1 - Var[y_true - y_pred] / Var[y_true]`` (NaN when ``Var[y_true] == 0``), as SB3."""
    n = y_true.size
    if n == 0:
        return float("nan")
    y = y_true.astype(np.float64)
    r = y - y_pred
    dy = y - y.sum() / n
    dr = r - r.sum() / n
    var_y = float(dy @ dy)
    return float("nan") if var_y == 0 else 1.0 - float(dr @ dr) / var_y
