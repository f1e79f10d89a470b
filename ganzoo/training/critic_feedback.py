"""What the engine does with the discriminator's outputs, for every model that reports them in
its critic phases (``PhaseLoss.real_logits`` and ``fake_logits``):

- **ADA** (``--augment ada``; Karras et al. 2020): ``StepContext.augment`` puts every image D
  sees through :func:`ganzoo.ada.ada_augment` with probability ``p``. The overfitting heuristic
  r_t = E[sign(D(real))] is gathered over ``--ada-interval`` steps (over every process), then
  p moves by sign(r_t - target) * (images in those steps) / (``--ada-kimg`` * 1000), kept in
  [0, 1]: p can go from 0 to 1 in ada-kimg thousand images (500 in the paper). Target 0.6.
- **LeCam** (``--lecam WEIGHT``; Tseng et al. 2021): exponential moving averages of D's mean
  output on reals and on fakes (decay 0.99, bias-corrected as in the reference implementation)
  anchor the regulariser mean(relu(D(x) - a_fake)^2) + mean(relu(a_real - D(G(z)))^2),
  added to the critic phase's loss times WEIGHT (0.3 in the paper's CIFAR-10 BigGAN).

Both are training state: p, the heuristic's running sums and the anchors are in every
checkpoint, so a resumed run equals an uninterrupted one."""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.ada import ada_augment
from ganzoo.errors import UsageError
from ganzoo.protocols import Phase, PhaseLoss
from ganzoo.training.distributed import World

LECAM_DECAY = 0.99


class AdaptiveAugment:
    """ADA's probability p and the heuristic that tunes it."""

    def __init__(self, target: float, interval: int, kimg: float, batch_size: int, world: World, device):
        self.target, self.interval, self.world = target, interval, world
        self.step_size = batch_size * interval / (kimg * 1000)
        self.p = 0.0
        # sum of sign(D(real)) and the count, on the device: read only when p is adjusted
        self.signs = torch.zeros(2, dtype=torch.float64, device=device)

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        return ada_augment(images, self.p)

    def observe(self, real_logits: torch.Tensor) -> None:
        logits = real_logits.detach()
        self.signs += torch.stack([logits.sign().sum().double(), torch.tensor(logits.numel(), device=logits.device)])

    def after_step(self, step: int) -> None:
        """After training step ``step`` (counted from 1): adjust p every ``interval`` steps."""
        if step % self.interval:
            return
        total = self.world.mean(self.signs) * self.world.size
        signs, count = total.tolist()
        if count:
            r_t = signs / count
            self.p = min(1.0, max(0.0, self.p + (1.0 if r_t > self.target else -1.0) * self.step_size))
        self.signs.zero_()

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p, "signs": self.signs.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p = float(state["p"])
        self.signs.copy_(state["signs"])


class LeCam:
    """The anchors (per critic phase: a model with two discriminators has two pairs)."""

    def __init__(self, weight: float, world: World, device):
        self.weight, self.world, self.device = weight, world, device
        self.anchors: dict[str, torch.Tensor] = {}  # phase -> [ema real, ema fake, decay^updates]

    def term(self, phase: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        state = self.anchors.setdefault(phase, torch.tensor([0.0, 0.0, 1.0], device=self.device))
        means = self.world.mean(torch.stack([real_logits.detach().float().mean(), fake_logits.detach().float().mean()]))
        state[:2] = LECAM_DECAY * state[:2] + (1 - LECAM_DECAY) * means
        state[2] *= LECAM_DECAY
        real_anchor, fake_anchor = state[:2] / (1 - state[2])  # bias-corrected: the averages start at 0
        regulariser = torch.relu(real_logits.float() - fake_anchor).square().mean()
        regulariser = regulariser + torch.relu(real_anchor - fake_logits.float()).square().mean()
        return self.weight * regulariser

    def state_dict(self) -> dict[str, Any]:
        return {phase: value.clone() for phase, value in self.anchors.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.anchors = {phase: value.to(self.device).clone() for phase, value in state.items()}


class CriticFeedback:
    """ADA and LeCam for one run (either may be off); see the module's docstring."""

    def __init__(self, model_name: str, ada: AdaptiveAugment | None, lecam: LeCam | None):
        self.model_name, self.ada, self.lecam = model_name, ada, lecam
        self.reported = False  # whether any critic phase has reported D's outputs yet

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        return self.ada.augment(images) if self.ada is not None else images

    def critic_term(self, phase: Phase, result: PhaseLoss) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
        """After a critic phase's loss: LeCam's term to add to it (or None) and what to log."""
        real, fake = result.real_logits, result.fake_logits
        logs: dict[str, torch.Tensor] = {}
        if real is not None:
            self.reported = True
        if self.ada is not None and real is not None:
            self.ada.observe(real)
            logs["augment_p"] = torch.tensor(self.ada.p, device=real.device)
        if self.lecam is None or real is None or fake is None:
            return None, logs
        term = self.lecam.term(phase.name, real, fake)
        logs[f"lecam_{phase.name}"] = term.detach()
        return term, logs

    def after_step(self, step: int) -> None:
        if not self.reported:
            wanted = " and ".join(
                name for name, on in (("--augment ada", self.ada), ("--lecam", self.lecam)) if on is not None
            )
            raise UsageError(
                f"{wanted}: model '{self.model_name}' does not report its discriminator's outputs "
                "(PhaseLoss.real_logits and fake_logits in a critic phase)"
            )
        if self.ada is not None:
            self.ada.after_step(step)

    def state_dict(self) -> dict[str, Any]:
        return {
            **({"ada": self.ada.state_dict()} if self.ada is not None else {}),
            **({"lecam": self.lecam.state_dict()} if self.lecam is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.ada is not None and "ada" in state:
            self.ada.load_state_dict(state["ada"])
        if self.lecam is not None and "lecam" in state:
            self.lecam.load_state_dict(state["lecam"])
