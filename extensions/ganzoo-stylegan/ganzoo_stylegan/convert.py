"""State dicts of StyleGAN2-ADA's PyTorch networks (NVlabs/stylegan2-ada-pytorch,
``training/networks.py``: ``Generator`` and ``Discriminator``) as ganzoo's, and back.

Only names change: ganzoo stores every weight in the reference's shape and orientation
(including the upsampling convolutions' kernels, see :func:`ganzoo_stylegan.networks.conv2d_resample`),
so a converted state dict loads with ``load_state_dict`` and gives the same outputs, given the
same architecture settings (resolution, channels, channel_base/max, mapping depth, D
architecture, conv_clamp). The reference's ``resample_filter`` buffers are constants that ganzoo
does not checkpoint; they are dropped. Read a reference pickle's networks with the reference's
own code (``legacy.load_network_pkl``) and pass ``G.state_dict()`` / ``D.state_dict()`` here."""

from __future__ import annotations

import math
import re

import torch

__all__ = [
    "discriminator_from_reference",
    "discriminator_to_reference",
    "generator_from_reference",
    "generator_to_reference",
]

_SYNTHESIS = re.compile(r"synthesis\.b(\d+)\.(.+)")
_D_BLOCK = re.compile(r"b(\d+)\.(.+)")
_MAPPING_FC = re.compile(r"mapping\.fc(\d+)\.(.+)")

# inside a synthesis layer (the reference's SynthesisLayer / ToRGBLayer -> ganzoo's)
_LAYER_PARTS = {
    "weight": "conv.weight",
    "affine.weight": "conv.affine.weight",
    "affine.bias": "conv.affine.bias",
    "noise_strength": "noise.strength",
    "noise_const": "noise.noise_const",
    "bias": "bias",
}
_TORGB_PARTS = {"weight": "conv.weight", "affine.weight": "conv.affine.weight", "affine.bias": "conv.affine.bias"}


def _mapping_name(name: str) -> str | None:
    """The mapping network's names, shared by G's and the conditional D's."""
    match = _MAPPING_FC.fullmatch(name)
    if match:
        return f"mapping.layers.{match[1]}.{match[2]}"
    if name.startswith("mapping.embed.") or name == "mapping.w_avg":
        return name
    return None


def _generator_name(name: str) -> str | None:
    mapped = _mapping_name(name)
    if mapped is not None:
        return mapped
    match = _SYNTHESIS.fullmatch(name)
    if not match:
        raise KeyError(f"not a StyleGAN2-ADA generator entry: {name!r}")
    resolution, rest = int(match[1]), match[2]
    block = f"synthesis.blocks.{int(math.log2(resolution)) - 2}"
    if rest == "resample_filter" or rest.endswith(".resample_filter"):
        return None  # a constant: ganzoo's filters are non-persistent buffers
    if rest == "const":
        return f"{block}.const"
    layer, _, part = rest.partition(".")
    if layer == "torgb":
        return f"{block}.torgb.{_TORGB_PARTS.get(part, part)}"
    if layer in ("conv0", "conv1") and part in _LAYER_PARTS:
        index = 0 if resolution == 4 or layer == "conv0" else 1  # the 4x4 block has conv1 only
        return f"{block}.convs.{index}.{_LAYER_PARTS[part]}"
    raise KeyError(f"not a StyleGAN2-ADA generator entry: {name!r}")


def _discriminator_name(name: str, resolution: int) -> str | None:
    mapped = _mapping_name(name)
    if mapped is not None:
        return mapped
    match = _D_BLOCK.fullmatch(name)
    if not match:
        raise KeyError(f"not a StyleGAN2-ADA discriminator entry: {name!r}")
    block_resolution, rest = int(match[1]), match[2]
    if rest == "resample_filter" or rest.endswith(".resample_filter"):
        return None
    layer, _, part = rest.partition(".")
    if block_resolution == 4:  # the epilogue
        if layer in ("conv", "fc", "out"):
            return f"{layer}.{part}"
    elif layer == "fromrgb":
        return f"from_rgb.{part}"
    elif layer in ("conv0", "conv1", "skip"):
        index = int(math.log2(resolution)) - int(math.log2(block_resolution))
        return f"blocks.{index}.{layer}.{part}"
    raise KeyError(f"not a StyleGAN2-ADA discriminator entry: {name!r}")


def generator_from_reference(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A reference ``Generator.state_dict()`` as a ganzoo :class:`~ganzoo_stylegan.networks.Generator` one."""
    converted = {}
    for name, tensor in state.items():
        target = _generator_name(name)
        if target is not None:
            converted[target] = tensor
    return converted


def discriminator_from_reference(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A reference ``Discriminator.state_dict()`` as a ganzoo
    :class:`~ganzoo_stylegan.networks.Discriminator` one."""
    resolutions = [int(m[1]) for name in state if (m := _D_BLOCK.match(name))]
    if not resolutions:
        raise KeyError("no discriminator blocks (b<resolution>.*) in this state dict")
    resolution = max(resolutions)
    converted = {}
    for name, tensor in state.items():
        target = _discriminator_name(name, resolution)
        if target is not None:
            converted[target] = tensor
    return converted


def _inverse(names: dict[str, str | None], state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    back = {ours: theirs for theirs, ours in names.items() if ours is not None}
    missing = sorted(set(state) - set(back))
    if missing:
        raise KeyError(f"no StyleGAN2-ADA name for: {', '.join(missing)}")
    return {back[name]: tensor for name, tensor in state.items()}


def _reference_generator_names(state: dict[str, torch.Tensor]) -> dict[str, str | None]:
    """Every reference generator name that a ganzoo state dict's layout implies."""
    names: dict[str, str | None] = {}
    blocks = sorted({int(n.split(".")[2]) for n in state if n.startswith("synthesis.blocks.")})
    for index in blocks:
        res = 2 ** (index + 2)
        convs = ["conv1"] if res == 4 else ["conv0", "conv1"]
        candidates = [f"synthesis.b{res}.const"] if res == 4 else []
        candidates += [f"synthesis.b{res}.{layer}.{part}" for layer in convs for part in _LAYER_PARTS]
        candidates += [f"synthesis.b{res}.torgb.{part}" for part in (*_TORGB_PARTS, "bias")]
        names.update({c: _generator_name(c) for c in candidates})
    layers = {int(n.split(".")[2]) for n in state if n.startswith("mapping.layers.")}
    for index in layers:
        names.update({f"mapping.fc{index}.{p}": f"mapping.layers.{index}.{p}" for p in ("weight", "bias")})
    names.update({n: n for n in state if n.startswith("mapping.embed.") or n == "mapping.w_avg"})
    return names


def generator_to_reference(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A ganzoo generator state dict under the reference's names (without its resample filters)."""
    return _inverse(_reference_generator_names(state), state)


def discriminator_to_reference(state: dict[str, torch.Tensor], resolution: int) -> dict[str, torch.Tensor]:
    """A ganzoo discriminator state dict (of a ``resolution`` px network) under the reference's
    names (without its resample filters)."""
    names: dict[str, str | None] = {}
    for theirs in (f"b{resolution}.fromrgb.weight", f"b{resolution}.fromrgb.bias"):
        names[theirs] = _discriminator_name(theirs, resolution)
    res = resolution
    while res > 4:
        for layer, parts in (("conv0", ("weight", "bias")), ("conv1", ("weight", "bias")), ("skip", ("weight",))):
            for part in parts:
                names[f"b{res}.{layer}.{part}"] = _discriminator_name(f"b{res}.{layer}.{part}", resolution)
        res //= 2
    for layer in ("conv", "fc", "out"):
        for part in ("weight", "bias"):
            names[f"b4.{layer}.{part}"] = f"{layer}.{part}"
    layers = {int(n.split(".")[2]) for n in state if n.startswith("mapping.layers.")}
    for index in layers:
        names.update({f"mapping.fc{index}.{p}": f"mapping.layers.{index}.{p}" for p in ("weight", "bias")})
    names.update({n: n for n in state if n.startswith("mapping.embed.")})
    present = set(state)
    return _inverse({k: v for k, v in names.items() if v in present}, state)
