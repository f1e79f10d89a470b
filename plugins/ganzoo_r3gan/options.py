"""R3GAN options (imported by ``ganzoo info`` without torch). The reference's CIFAR-10 row is
widths 768, 2 blocks per stage, lr 2e-4 -> 5e-5, gamma 0.05 -> 0.005 and Adam beta2 0.9 -> 0.99
along a cosine over 20,000 kimg (examples/configs/r3gan-cifar10.toml); the defaults here are the
digits demo's: width 32, lr 5e-4 -> 1.25e-4, gamma held at 0.5 and the schedules spanning its
1,000 steps of 64 (64 kimg)."""

from dataclasses import dataclass

from ganzoo.plugin import option


@dataclass
class R3GANOptions:
    z_dim: int = option(64, "length of the latent noise vector z", min=1)
    width: int = option(32, "channels of every stage, in G and D (the reference's CIFAR-10: 768)", min=1)
    blocks: int = option(2, "residual blocks per stage", min=1)
    expansion: int = option(2, "inverted bottleneck: a block widens its channels this many times", min=1)
    group_channels: int = option(16, "channels per group of a block's grouped 3x3 convolution", min=1)
    lr: float = option(5e-4, "Adam learning rate of both networks at the start (the reference's: 2e-4)", min=0.0)
    lr_final: float = option(1.25e-4, "learning rate at the end of the decay (the reference's: 5e-5)", min=0.0)
    beta2: float = option(0.9, "Adam beta2 at the start (beta1 is 0)", min=0.0, max=1.0)
    beta2_final: float = option(0.99, "Adam beta2 at the end of the decay", min=0.0, max=1.0)
    gamma: float = option(
        0.5, "weight of the R1 and R2 penalties at the start (the reference's CIFAR-10: 0.05)", min=0.0
    )
    gamma_final: float = option(
        0.5, "weight of the R1 and R2 penalties at the end of the decay (the reference's CIFAR-10: 0.005)", min=0.0
    )
    decay_kimg: float = option(
        64.0,
        "thousands of images over which lr, beta2 and gamma follow a cosine (the reference's: 20000; 0: no decay)",
        min=0.0,
    )
    ema_kimg: float = option(
        16.0, "half-life of the generator's average, in thousands of images (the reference's: 5000)", min=0.0
    )
    embed_dim: int = option(64, "length of the generator's class embedding (conditional)", min=1)
