"""Built-in plugin: the adversarial losses."""

from ganzoo.plugin import LossSpec, hookimpl

_MODULE = "ganzoo_losses.adversarial"


@hookimpl
def register_losses(register):
    register(
        LossSpec(
            "nonsaturating",
            "non-saturating GAN loss, BCE on logits (Goodfellow et al. 2014)",
            f"{_MODULE}:NonSaturatingLoss",
            paper="https://arxiv.org/abs/1406.2661",
        )
    )
    register(
        LossSpec(
            "minimax",
            "the original minimax GAN loss log(1 - D(G(z)))",
            f"{_MODULE}:MinimaxLoss",
            paper="https://arxiv.org/abs/1406.2661",
        )
    )
    register(
        LossSpec(
            "lsgan",
            "least-squares GAN loss (Mao et al. 2017)",
            f"{_MODULE}:LeastSquaresLoss",
            paper="https://arxiv.org/abs/1611.04076",
        )
    )
    register(
        LossSpec(
            "hinge",
            "hinge loss (Lim & Ye 2017; Miyato et al. 2018)",
            f"{_MODULE}:HingeLoss",
            paper="https://arxiv.org/abs/1705.02894",
        )
    )
    register(
        LossSpec(
            "wgan-gp",
            "Wasserstein loss with gradient penalty (Gulrajani et al. 2017)",
            f"{_MODULE}:WassersteinGPLoss",
            paper="https://arxiv.org/abs/1704.00028",
        )
    )
