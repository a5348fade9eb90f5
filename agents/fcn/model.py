"""The grasp value model: a fully-convolutional network of five layers (paper III-C, Fig. 3a).

A 32 x 32 window of the encoded height image (see :mod:`agents.fcn.observation`) gives a 1 x 1 x 3
output, one grasp success logit per gripper opening; the same network on the whole 110 x 110
image gives 40 x 40 x 3, one output per window at a stride of 2 pixels. The layers, with the
default :class:`ModelConfig` and two input channels (height, valid mask)::

    layer  kernel  stride  channels   window 32 -> image 110   BN  dropout  parameters
    1      6 x 6   2       2 -> 32    14 x 14    53 x 53       yes  -        2,304 + 64
    2      5 x 5   1       32 -> 48   10 x 10    49 x 49       yes  0.4     38,400 + 96
    3      5 x 5   1       48 -> 64    6 x 6     45 x 45       yes  0.4     76,800 + 128
    4      6 x 6   1       64 -> 142   1 x 1     40 x 40       yes  0.4    327,168 + 284
    5      1 x 1   1       142 -> 3    1 x 1     40 x 40       -    -          429

That is 445,673 trainable parameters (the paper: "around 450 000"). The receptive field is
6 + 2 (4 + 4 + 5) = 32 pixels, exactly the window, and the only stride sits in layer 1, so
output cell (i, j) sees input rows 2i .. 2i + 31 and columns 2j .. 2j + 31: the window of grid
cell (i, j). There is no padding and no pooling. The convolutions before a batch norm carry
no bias (the norm's shift replaces it). L2 regularisation is the optimiser's weight decay
(:class:`agents.training.fit.TrainConfig`).

Dropout draws its masks from a ``torch.Generator`` held by the model (never the global RNG);
:func:`build_model` takes that generator and also initialises the weights from it. (torch's
own default initialisation, overwritten at once, runs inside ``torch.random.fork_rng`` so that
the global RNG's state is left as it was.)
:func:`fuse_for_inference` folds every batch norm into its convolution for fast evaluation.
"""

from __future__ import annotations

import torch
from torch import nn

from agents.fcn.model_config import ModelConfig
from grasp_env.errors import ConfigError


class GeneratorDropout(nn.Module):
    """Element-wise dropout whose masks come from the owning model's ``torch.Generator``.

    Args:
        p: the probability of zeroing an element while training.
        owner: a one-element list holding the generator, shared by every dropout of a model,
            so that :meth:`ValueModel.set_generator` reaches all of them.
    """

    def __init__(self, p: float, owner: list[torch.Generator | None]) -> None:
        super().__init__()
        self.p = float(p)
        self._owner = owner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Drop elements with probability ``p`` in training mode; identity in eval mode."""
        if not self.training or self.p == 0.0:
            return x
        generator = self._owner[0]
        if generator is None:
            raise ConfigError(
                "dropout in training mode needs the model's torch.Generator; expected"
                " model.set_generator(generator), got no generator"
            )
        if generator.device != x.device:
            raise ConfigError(
                f"the dropout generator must live on the input's device {x.device},"
                f" got a generator on {generator.device}"
            )
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=generator)
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        """The rate, for ``print(model)``."""
        return f"p={self.p}"


class ValueModel(nn.Module):
    """The grasp value FCN; :meth:`forward` gives logits, :meth:`predict` probabilities.

    Input: float tensor (N, in_channels, H, W) of encoded images or windows.
    Output: (N, widths, H', W') with H' = (H - window_px) // stride + 1, likewise W'.
    """

    def __init__(self, config: ModelConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        self._generator: list[torch.Generator | None] = [generator]
        with torch.random.fork_rng(devices=[]):  # torch's default init draws from the global RNG
            self.body = self._layers(config)

    def _layers(self, config: ModelConfig) -> nn.Sequential:
        layers: list[nn.Module] = []
        cin = config.in_channels
        for n in range(4):
            cout = config.channels[n]
            stride = config.stride if n == 0 else 1
            bn = config.batch_norm[n]
            layers.append(nn.Conv2d(cin, cout, config.kernels[n], stride=stride, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU(inplace=True))
            if config.dropout[n] > 0:
                layers.append(GeneratorDropout(config.dropout[n], self._generator))
            cin = cout
        layers.append(nn.Conv2d(cin, config.widths, config.kernels[4]))
        return nn.Sequential(*layers)

    def set_generator(self, generator: torch.Generator | None) -> None:
        """Use ``generator`` for the dropout masks from now on."""
        self._generator[0] = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of grasp success, (N, widths, H', W')."""
        return self.body(x)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Grasp success probabilities, (N, widths, H', W')."""
        return torch.sigmoid(self.body(x))


def build_model(config: ModelConfig, generator: torch.Generator) -> ValueModel:
    """A freshly initialised :class:`ValueModel`; weights and dropout draw from ``generator``.

    Convolutions get Kaiming-uniform weights for ReLU (the last one: Xavier-uniform), biases
    zero; batch norms start as the identity.
    """
    model = ValueModel(config, generator)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for n, conv in enumerate(convs):
            if n < len(convs) - 1:
                nn.init.kaiming_uniform_(conv.weight, nonlinearity="relu", generator=generator)
            else:
                nn.init.xavier_uniform_(conv.weight, generator=generator)
            if conv.bias is not None:
                conv.bias.zero_()
    return model


def parameter_count(model: nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def fuse_for_inference(model: ValueModel) -> nn.Sequential:
    """An eval-only copy of ``model`` with each batch norm folded into its convolution.

    The copy is a plain ``nn.Sequential`` of convolutions and ReLUs that returns logits; it
    computes what ``model.eval()`` computes, up to float rounding. It shares no tensors with
    ``model``, so training ``model`` further does not change it.
    """
    out: list[nn.Module] = []
    for layer in model.body:
        _fuse_layer(out, layer)
    fused = nn.Sequential(*out).eval()
    for p in fused.parameters():
        p.requires_grad_(False)
    return fused


def _fuse_layer(out: list[nn.Module], layer: nn.Module) -> None:
    """Append ``layer`` to the fused ``out``: a batch norm folds into the convolution before."""
    if isinstance(layer, nn.Conv2d):
        out.append(_copy_conv(layer))
    elif isinstance(layer, nn.BatchNorm2d):
        if not out or not isinstance(out[-1], nn.Conv2d):
            raise ConfigError("expected a convolution before each batch norm, got none")
        out[-1] = _fold(out[-1], layer)
    elif isinstance(layer, nn.ReLU):
        out.append(nn.ReLU(inplace=True))
    elif not isinstance(layer, GeneratorDropout | nn.Dropout):
        raise ConfigError(f"cannot fuse a layer of type {type(layer).__name__}")


def _copy_conv(conv: nn.Conv2d) -> nn.Conv2d:
    with torch.random.fork_rng(devices=[]):  # the throw-away default init uses the global RNG
        copy = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            bias=True,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
    with torch.no_grad():
        copy.weight.copy_(conv.weight)
        if conv.bias is not None:
            copy.bias.copy_(conv.bias)
        else:
            copy.bias.zero_()
    return copy


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    with torch.no_grad():
        w64, b64 = conv.weight.double(), conv.bias.double()
        scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
        conv.weight.copy_((w64 * scale.view(-1, 1, 1, 1)).to(conv.weight.dtype))
        shift = bn.bias.double() + (b64 - bn.running_mean.double()) * scale
        conv.bias.copy_(shift.to(conv.bias.dtype))
    return conv


__all__ = [
    "GeneratorDropout",
    "ModelConfig",
    "ValueModel",
    "build_model",
    "fuse_for_inference",
    "parameter_count",
]
