"""DCGAN options (imported by ``ganzoo info`` without torch)."""

from dataclasses import dataclass

from ganzoo.plugin import option


@dataclass
class DCGANOptions:
    nz: int = option(100, "length of the latent noise vector z", min=1)
    ngf: int = option(64, "generator width: channels of its last hidden layer", min=1)
    ndf: int = option(64, "discriminator width: channels of its first layer", min=1)
    lr: float = option(2e-4, "Adam learning rate of both networks", min=0.0)
    beta1: float = option(0.5, "Adam beta1", min=0.0, max=1.0)
    beta2: float = option(0.999, "Adam beta2", min=0.0, max=1.0)
    loss: str = option("nonsaturating", "adversarial loss (see `ganzoo list losses`)")
    label_smoothing: float = option(0.0, "one-sided label smoothing: real targets become 1 - this", min=0.0, max=0.5)
    r1_gamma: float = option(0.0, "weight of the R1 gradient penalty on real images (0: off)", min=0.0)
    # Off, as in the paper. On the embedded digits, translation lets G draw strokes off the 8x8
    # source grid (grey, blurred digits) and spreads the classes (docs/benchmarks.md).
    augment: str = option("", "DiffAugment policy on D's inputs: comma-separated color, translation, cutout ('' = off)")
    label_noise: float = option(
        0.0, "probability of flipping each discriminator label (noisy labels)", min=0.0, max=0.5
    )


@dataclass
class CDCGANOptions(DCGANOptions):
    embed_dim: int = option(64, "length of the generator's class/attribute embedding", min=1)
