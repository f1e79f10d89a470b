"""CycleGAN options, defaults as in Zhu et al. 2017 (imported by ``ganzoo info`` without torch)."""

from dataclasses import dataclass

from ganzoo.plugin import option


@dataclass
class CycleGANOptions:
    ngf: int = option(64, "generator width: channels of its first layer", min=1)
    ndf: int = option(64, "discriminator width: channels of its first layer", min=1)
    n_blocks: int = option(0, "residual blocks per generator (0: 9 at 256 px and above, 6 below)", min=0)
    n_layers: int = option(3, "PatchGAN depth: 3 = 70x70 patches", min=0, max=6)
    norm: str = option("instance", "normalisation layers", choices=("instance", "batch"))
    lambda_cycle: float = option(10.0, "weight of each cycle-consistency L1 term", min=0.0)
    lambda_identity: float = option(0.5, "weight of the identity terms, relative to lambda_cycle", min=0.0)
    pool_size: int = option(50, "past fakes each discriminator also learns from (0: none)", min=0)
    loss: str = option(
        "lsgan", "adversarial loss: lsgan (the paper's) or nonsaturating", choices=("lsgan", "nonsaturating")
    )
    lr: float = option(2e-4, "Adam learning rate of all networks", min=0.0)
    beta1: float = option(0.5, "Adam beta1", min=0.0, max=1.0)
    beta2: float = option(0.999, "Adam beta2", min=0.0, max=1.0)
    jitter: bool = option(True, "random jitter: resize to 286/256 of the size, random crop back, random flip")
