"""SNGAN options (imported by ``ganzoo info`` without torch). The widths default to 48, below
the paper's CIFAR-10 ResNets (G 256, D 128 channels), so the digits demo trains in minutes on a
CPU; examples/configs/sngan-cifar10.toml sets the paper's."""

from dataclasses import dataclass

from ganzoo.plugin import option


@dataclass
class SNGANOptions:
    z_dim: int = option(128, "length of the latent noise vector z", min=1)
    g_channels: int = option(48, "channels of every generator block (the paper's CIFAR-10: 256)", min=1)
    d_channels: int = option(48, "channels of every discriminator block (the paper's CIFAR-10: 128)", min=1)
    lr: float = option(2e-4, "Adam learning rate of both networks", min=0.0)
    beta1: float = option(0.0, "Adam beta1", min=0.0, max=1.0)
    beta2: float = option(0.9, "Adam beta2", min=0.0, max=1.0)
    loss: str = option("hinge", "adversarial loss (see `ganzoo list losses`)")


@dataclass
class SAGANOptions(SNGANOptions):
    """SAGAN's two time-scale update rule: D learns four times faster than G (``lr`` is D's). The
    digits demo runs at twice the paper's rates (4e-4 and 1e-4, examples/configs/sagan-cifar10.toml):
    at the paper's, G's class-conditional normalisations learn too slowly for its 1,500 steps."""

    lr: float = option(8e-4, "Adam learning rate of the discriminator (TTUR; the paper's: 4e-4)", min=0.0)
    lr_g: float = option(2e-4, "Adam learning rate of the generator (TTUR; the paper's: 1e-4)", min=0.0)


@dataclass
class BigGANOptions(SNGANOptions):
    """BigGAN's, as its CIFAR-10 script (Adam betas (0, 0.999), 2e-4 for both networks) with the
    paper's shared embedding, hierarchical latent and orthogonal regularisation."""

    g_channels: int = option(
        48,
        "generator width at 32 px, 4 x the reference's G_ch; at 64 and 128 px scaled per block (CIFAR-10: 256)",
        min=1,
    )
    d_channels: int = option(
        48,
        "discriminator width at 32 px, 4 x the reference's D_ch; at 64 and 128 px scaled per block (CIFAR-10: 256)",
        min=1,
    )
    lr: float = option(2e-4, "Adam learning rate of the discriminator", min=0.0)
    beta2: float = option(0.999, "Adam beta2", min=0.0, max=1.0)
    lr_g: float = option(2e-4, "Adam learning rate of the generator", min=0.0)
    shared_dim: int = option(128, "length of the class embedding shared by the generator's blocks", min=1)
    ortho: float = option(1e-4, "strength of the orthogonal regularisation of G's weights (0: off)", min=0.0)
