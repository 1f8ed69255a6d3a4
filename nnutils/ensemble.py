"""Train many small nets in one call: R nets of one architecture stacked into one, each with its own seed, its
own batch order and its own stopping rule.

Typical use::

    runs = fit_many(lambda: PolarNet(10), seeds=range(5), train=(x, y), stop_at=1.0,
                    loss="bce", optimizer="adam", lr=0.01, batch_size=97, epochs=20_000)

The nets' weights are stacked (a ``StackedLinear`` holds R ``nn.Linear`` layers, and multiplies all R nets'
batches by their own weights in one batched matrix product) and the nets' own ``forward`` runs once on all their
batches, stacked as rows; one loss, one backward pass and one optimizer step per batch serve all R nets, which is
where a small net's time goes. Each net still computes what a lone run computes: its own rows, its own weights,
its own mean loss, and an elementwise optimizer update. Only the rounding of a batched product can differ from a
lone one, so a net's numbers are those of :func:`nnutils.training.fit` with the same seed to float tolerance
(tests check the epochs to 100%, the accuracies, the losses and the weights), and a net that reaches ``stop_at``
leaves the ensemble with the weights and the epoch count it had then. The nets may use ``nn.Linear`` layers,
activations and other layers without parameters (``PerNet``). Nets that differ only in the sizes of their hidden
layers train together too: the smaller layers are padded with zeros that stay zero.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from . import work
from .history import History, Run
from .models import Step, forward_cost
from .training import LOSSES, OPTIMIZERS, TrainConfig, get_device, make_optimizer, set_seed

Tensors = tuple[torch.Tensor, torch.Tensor]


def _argmax_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (out.argmax(dim=-1) == y).sum(1)


def _threshold_correct(cut: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    def correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((out > cut) == (y > 0.5)).reshape(*out.shape[:2], -1).all(dim=2).sum(1)

    return correct


# loss name -> correct examples per net, for outputs (R, batch, ...): the metrics of ``training.LOSSES``, per net
CORRECT_PER_NET = {
    "nll": _argmax_correct,
    "cross_entropy": _argmax_correct,
    "bce": _threshold_correct(0.5),
    "bce_logits": _threshold_correct(0.0),
    "mse": None,
}


class StackedLinear(nn.Module):
    """R ``nn.Linear`` layers as one module: weight (R, out, in), bias (R, out). Its input is the R nets' rows one
    after another (R * batch, in), as the rest of the net sees them. Layers of different sizes are padded with
    zeros to the largest; ``mask`` (1 on a layer's own weights, 0 on the padding; None without padding) keeps
    the padding at zero (:meth:`mask_grads`)."""

    def __init__(self, layers: Sequence[nn.Linear]):
        super().__init__()
        if any(layer.bias is None for layer in layers):
            raise ValueError("fit_many stacks nn.Linear layers with a bias; give the layer bias=True.")
        out_features = max(layer.out_features for layer in layers)
        in_features = max(layer.in_features for layer in layers)
        like = dict(dtype=layers[0].weight.dtype, device=layers[0].weight.device)
        weight, bias = (
            torch.zeros(len(layers), out_features, in_features, **like),
            torch.zeros(len(layers), out_features, **like),
        )
        mask = torch.zeros_like(weight)
        for r, layer in enumerate(layers):
            weight[r, : layer.out_features, : layer.in_features] = layer.weight.detach()
            bias[r, : layer.out_features] = layer.bias.detach()
            mask[r, : layer.out_features, : layer.in_features] = 1.0
        self.weight, self.bias = nn.Parameter(weight), nn.Parameter(bias)
        self.register_buffer("mask", None if bool(mask.all()) else mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nets, out_features, in_features = self.weight.shape
        rows = x.reshape(nets, -1, in_features)
        return torch.baddbmm(self.bias.unsqueeze(1), rows, self.weight.transpose(1, 2)).reshape(-1, out_features)

    def mask_grads(self) -> None:
        """Zero the gradients of the padding (a padded unit's output, e.g. sigmoid(0), must not train the zeros
        that read it); with zero gradients the optimizers' updates of the padding are zero too."""
        if self.mask is not None:
            self.weight.grad.mul_(self.mask)
            self.bias.grad.mul_(self.mask[:, :, 0])


def _per_net_losses(loss: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Each net's loss (R,) from outputs and targets (R, batch, ...): in one call for BCE, else net by net."""
    if loss == "bce":
        return lambda out, target: F.binary_cross_entropy(out, target, reduction="none").flatten(1).mean(1)
    loss_fn = LOSSES[loss][0]
    return lambda out, target: torch.stack([loss_fn(o, t) for o, t in zip(out, target)])


# Layers that act on each number alone: run once for all nets (see PerNet); any other layer runs net by net.
ELEMENTWISE = (nn.Tanh, nn.Sigmoid, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softplus, nn.Identity, Step)


class PerNet(nn.Module):
    """A layer without parameters (an activation, a coordinate change) in the ensemble: a layer that acts on each
    number alone, or that says ``rowwise = True`` (each row computed alone), runs once on all nets' rows; any
    other layer runs net by net, on each net's rows as a tensor of its own."""

    def __init__(self, layer: nn.Module, nets: int):
        super().__init__()
        self.layer, self.nets = layer, nets
        self.at_once = isinstance(layer, ELEMENTWISE) or getattr(layer, "rowwise", False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.at_once:
            return self.layer(x)
        return torch.cat([self.layer(block) for block in x.chunk(self.nets)])


def _check_stackable(model: nn.Module) -> None:
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))
        if own and not isinstance(module, nn.Linear):
            raise ValueError(
                f"fit_many stacks nn.Linear layers only; {name or 'the model'} ({type(module).__name__}) has its "
                "own parameters or buffers. Train such a net with nnutils.training.fit."
            )
        if isinstance(module, nn.modules.dropout._DropoutNd):
            raise ValueError(f"fit_many cannot stack {name} (dropout): its random draws would differ from a lone run.")


def _leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's layers that hold no other layers, by name, in order."""
    return [(name, m) for name, m in model.named_modules() if name and not any(True for _ in m.children())]


def architecture(model: nn.Module) -> str:
    """What nets must share to train as one ensemble: the model's class and its layers, in order, with the sizes
    of the ``nn.Linear`` layers left out (those are padded)."""
    layers = [f"{name}: {'Linear' if isinstance(m, nn.Linear) else repr(m)}" for name, m in _leaves(model)]
    return "; ".join([type(model).__qualname__, *layers])


def stack_models(models: Sequence[nn.Module]) -> tuple[nn.Module, list[str]]:
    """One net whose ``nn.Linear`` layers are ``StackedLinear`` layers of all the models and whose other leaf
    layers run ``PerNet``; with the names of the linear layers. The models may differ in the sizes of their
    hidden layers, not in their inputs or outputs."""
    if not models:
        raise ValueError("fit_many needs at least one model.")
    for model in models:
        _check_stackable(model)
    if len({architecture(m) for m in models}) > 1:
        raise ValueError("fit_many stacks nets of one architecture: the models' layers differ.")
    net = copy.deepcopy(models[0])
    leaves = _leaves(net)
    linear = [name for name, m in leaves if isinstance(m, nn.Linear)]
    if linear:
        ends = {(m.get_submodule(linear[0]).in_features, m.get_submodule(linear[-1]).out_features) for m in models}
        if len(ends) > 1:
            raise ValueError(
                "fit_many pads hidden layers only: the models' inputs or outputs differ "
                f"(first layer's inputs, last layer's outputs: {sorted(ends)})."
            )
    for name, module in leaves:
        parent, _, attr = name.rpartition(".")
        stacked = (
            StackedLinear([m.get_submodule(name) for m in models])
            if isinstance(module, nn.Linear)
            else PerNet(module, len(models))
        )
        setattr(net.get_submodule(parent), attr, stacked)
    return net, linear


def _set_nets(net: nn.Module, nets: int) -> None:
    for module in net.modules():
        if isinstance(module, PerNet):
            module.nets = nets


def _keep_nets(net: nn.Module, optimizer: torch.optim.Optimizer, keep: torch.Tensor) -> None:
    """Drop the finished nets: keep rows ``keep`` of the stacked parameters and of the optimizer's state."""
    params, state = [], {}
    for module in net.modules():
        if isinstance(module, StackedLinear):
            for attr in ("weight", "bias"):
                old = getattr(module, attr)
                new = nn.Parameter(old.detach()[keep].clone())
                setattr(module, attr, new)
                if attr == "weight" and module.mask is not None:
                    module.mask = module.mask[keep]
                params.append(new)
                state[new] = {
                    k: v[keep].clone() if torch.is_tensor(v) and v.dim() > 0 else v
                    for k, v in optimizer.state.get(old, {}).items()
                }
    optimizer.param_groups[0]["params"] = params
    optimizer.state.clear()
    optimizer.state.update(state)
    _set_nets(net, len(keep))


def _copy_net_weights(net: nn.Module, names: Sequence[str], row: int, model: nn.Module) -> None:
    with torch.no_grad():
        for name in names:
            stacked, layer = net.get_submodule(name), model.get_submodule(name)
            out_features, in_features = layer.weight.shape
            layer.weight.copy_(stacked.weight[row, :out_features, :in_features])
            layer.bias.copy_(stacked.bias[row, :out_features])


def fit_models(
    models: Sequence[nn.Module],
    seeds: Sequence[int],
    train: Tensors,
    *,
    config: TrainConfig | None = None,
    stop_at: float | None = None,
    names: Sequence[str] | None = None,
    **overrides,
) -> list[Run]:
    """Train already built models of one architecture together, model r shuffling with ``seeds[r]``; one ``Run``
    each, with the model holding its weights at its stop (``stop_at``: training accuracy that ends a net's run,
    None = run all epochs). ``config`` and keyword overrides are those of :func:`nnutils.training.fit` (its
    ``seed`` is replaced by ``seeds``; no validation set, no callbacks). ``run.seconds`` is a net's share of the
    wall time."""
    cfg = replace(config or TrainConfig(), **overrides)
    if len(models) != len(seeds):
        raise ValueError(f"fit_many needs one seed per model: {len(models)} models, {len(seeds)} seeds.")
    if cfg.optimizer not in OPTIMIZERS or not isinstance(cfg.loss, str):
        raise ValueError(f"fit_many takes a loss by name ({', '.join(LOSSES)}).")
    losses_of = _per_net_losses(cfg.loss)
    if cfg.metric is None:
        correct_fn = CORRECT_PER_NET[cfg.loss]
    else:  # a metric of the lone loop's kind (correct examples in one batch), called net by net

        def correct_fn(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.stack([cfg.metric(o, t) for o, t in zip(out, y)])

    device = get_device(cfg.device)
    net, layer_names = stack_models(models)
    net.to(device).train()
    padded = [m for m in net.modules() if isinstance(m, StackedLinear) and m.mask is not None]
    x, y = (t.to(device) for t in train)
    per_example = [forward_cost(m, x[:1]) if len(x) else work.Cost() for m in models]  # for the work tally, as fit's
    n, total = len(y), len(models)
    optimizer = make_optimizer(net.parameters(), cfg)
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    histories = [History() for _ in models]
    shares = [0.0] * total
    active = list(range(total))  # which model each stacked row is
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        orders = torch.stack(
            [torch.randperm(n, generator=generators[r]) if cfg.shuffle else torch.arange(n) for r in active]
        )
        orders = orders.to(device)
        loss_sum = torch.zeros(len(active), device=device)
        correct = torch.zeros(len(active), device=device)
        for first in range(0, n, cfg.batch_size):
            index = orders[:, first : first + cfg.batch_size]
            flat = net(x[index].flatten(0, 1))
            targets = y[index]
            out = flat.reshape(*index.shape, *flat.shape[1:])
            losses = losses_of(out, targets)
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            for layer in padded:
                layer.mask_grads()
            optimizer.step()
            loss_sum += losses.detach() * index.shape[1]
            if correct_fn is not None:
                correct += correct_fn(out.detach(), targets)
        seconds = (time.perf_counter() - start) / len(active)
        accuracy = [c / n for c in correct.tolist()] if correct_fn is not None else [float("nan")] * len(active)
        finished = []
        for row, (r, loss, acc) in enumerate(zip(active, [v / n for v in loss_sum.tolist()], accuracy)):
            histories[r].append(epoch=epoch, train_loss=loss, train_acc=acc, seconds=seconds)
            work.epoch(per_example[r], n, steps=work.steps_of(n, cfg.batch_size))
            shares[r] += seconds
            if epoch == cfg.epochs or (stop_at is not None and acc >= stop_at):
                _copy_net_weights(net, layer_names, row, models[r])
                finished.append(row)
        if len(finished) == len(active):
            break
        if finished:
            keep = torch.tensor([row for row in range(len(active)) if row not in finished], device=device)
            _keep_nets(net, optimizer, keep)
            active = [active[row] for row in keep.tolist()]
    names = list(names) if names is not None else [f"{type(models[0]).__name__} seed {s}" for s in seeds]
    return [
        Run(name, model.to(device), history, None, share, {"seed": int(seed)})
        for name, model, history, share, seed in zip(names, models, histories, shares, seeds)
    ]


def fit_many(
    build: Callable[[], nn.Module], seeds: Sequence[int], train: Tensors, *, stop_at: float | None = None, **options
) -> list[Run]:
    """Build one net per seed (``set_seed(seed); build()``, as a lone run would) and train them together with
    :func:`fit_models`; one ``Run`` per seed, in order."""
    seeds = [int(s) for s in seeds]
    models = []
    for seed in seeds:
        set_seed(seed)
        models.append(build())
    return fit_models(models, seeds, train, stop_at=stop_at, **options)
