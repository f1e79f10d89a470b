"""Pix2Pix options, defaults as in Isola et al. 2017 (imported by ``ganzoo info`` without torch)."""

from dataclasses import dataclass

from ganzoo.plugin import option


@dataclass
class Pix2PixOptions:
    direction: str = option("a2b", "translate A to B, or B to A", choices=("a2b", "b2a"))
    ngf: int = option(64, "generator width: channels of the U-Net's first layer", min=1)
    ndf: int = option(64, "discriminator width: channels of its first layer", min=1)
    n_layers: int = option(3, "PatchGAN depth: 3 = 70x70 patches, 0 = 1x1 PixelGAN, 5 = 286x286", min=0, max=6)
    norm: str = option("batch", "normalisation layers", choices=("batch", "instance"))
    dropout: float = option(
        0.5, "dropout in the innermost decoder blocks, the generator's noise source", min=0.0, max=0.9
    )
    lambda_l1: float = option(100.0, "weight of the L1 distance to the target", min=0.0)
    loss: str = option(
        "nonsaturating", "adversarial loss: nonsaturating (the paper's) or lsgan", choices=("nonsaturating", "lsgan")
    )
    lr: float = option(2e-4, "Adam learning rate of both networks", min=0.0)
    beta1: float = option(0.5, "Adam beta1", min=0.0, max=1.0)
    beta2: float = option(0.999, "Adam beta2", min=0.0, max=1.0)
    jitter: bool = option(True, "random jitter: resize to 286/256 of the size, random crop back, random flip")
    inference: str = option(
        "train",
        "generator mode when translating: train (the paper's and the reference's: dropout on, each image "
        "normalised by its own statistics) or eval (dropout off, running statistics)",
        choices=("train", "eval"),
    )
    inference_seed: int = option(
        0, "seed of the dropout masks when inference=train: an input and a seed give one output", min=0
    )
