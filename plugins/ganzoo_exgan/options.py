"""ExGAN's options (``--set KEY=VALUE``) and where each default comes from."""

from __future__ import annotations

from dataclasses import dataclass

from ganzoo.plugin import option


@dataclass
class ExGANOptions:
    exemplar: str = option(
        "reference",
        "how the exemplar enters: reference (its image beside the input), code "
        "(an exemplar encoder's code at the bottleneck) or none (the baseline without exemplar)",
        choices=("reference", "code", "none"),
    )
    # 0 = by resolution: the 32 px demo trains in minutes on a CPU, faces at 128 px get the room
    ngf: int = option(0, "generator width (channels of its first layer); 0: 16 at 32 px, 32 at 64, 64 from 128", min=0)
    ndf: int = option(0, "discriminator width (each branch's first layer); 0: as ngf's rule", min=0)
    blocks: int = option(4, "residual blocks at the generator's bottleneck", min=1, max=16)
    dilated: bool = option(True, "dilate the residual blocks 1, 2, 4, 8... (GLCIC's dilated middle)")
    code_dim: int = option(256, "length of the exemplar code (code mode)", min=8)
    spectral_norm: bool = option(True, "spectral normalisation of the discriminator (Miyato et al. 2018)")
    loss: str = option("nonsaturating", "adversarial loss (see `ganzoo list losses`)")
    # ExGAN gives no numbers for its weights; these are ours: L1 outweighs the adversarial term
    # as in Pix2Pix, and the hole counts 6x the rest, the ratio of Liu et al. 2018 (partial convs).
    lambda_l1: float = option(10.0, "weight of the L1 reconstruction", min=0.0)
    hole_weight: float = option(6.0, "weight of the L1 inside the hole, relative to outside", min=0.0)
    lambda_code: float = option(
        1.0, "code mode: weight of ||E(output) - E(exemplar)||_1 (the perceptual exemplar term)", min=0.0
    )
    # Adam 1e-4, betas (0.5, 0.999): the public ExGAN re-implementations' settings.
    lr: float = option(1e-4, "Adam learning rate of both networks", min=0.0)
    beta1: float = option(0.5, "Adam beta1", min=0.0, max=1.0)
    beta2: float = option(0.999, "Adam beta2", min=0.0, max=1.0)


def width_for(resolution: int, given: int) -> int:
    """A width option's value: as given, or (0) chosen by the resolution."""
    if given:
        return given
    return 16 if resolution <= 32 else 32 if resolution <= 64 else 64
