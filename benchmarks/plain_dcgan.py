"""The floor ganzoo's DCGAN must beat: a plain DCGAN in one file, trained on the same embedded
digits (16x16, bilinear from scikit-learn's 8x8), with the same steps and batch size as
``ganzoo train dcgan``, then scored by digits_quality.py's classifier.

    python benchmarks/plain_dcgan.py [--steps 3000] [--seed 0] [--grid plain.png]

Nothing from ganzoo is used for training: Adam(2e-4, 0.5), the non-saturating loss, N(0, 0.02)
initialisation, no augmentation, no moving average; samples are drawn the way the classic
DCGAN example draws them (the generator left in training mode, so BatchNorm uses the batch's
statistics, in batches of 64).
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F
from digits_quality import digits_classifier, score_images
from sklearn.datasets import load_digits
from torch import nn


def digits16() -> torch.Tensor:
    images = torch.from_numpy(load_digits().images).float().div(16.0).unsqueeze(1)
    images = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
    return images.clamp(0, 1).mul(255).round().div(127.5).sub(1.0)  # the uint8 round trip ganzoo makes


def networks(nz: int = 100, width: int = 64) -> tuple[nn.Module, nn.Module]:
    generator = nn.Sequential(
        nn.ConvTranspose2d(nz, width * 2, 4, 1, 0, bias=False),  # 4x4
        nn.BatchNorm2d(width * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(width * 2, width, 4, 2, 1, bias=False),  # 8x8
        nn.BatchNorm2d(width),
        nn.ReLU(True),
        nn.ConvTranspose2d(width, 1, 4, 2, 1, bias=False),  # 16x16
        nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1, bias=False),  # 8x8
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),  # 4x4
        nn.BatchNorm2d(width * 2),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(width * 2, 1, 4, 1, 0, bias=False),
        nn.Flatten(0),
    )
    for module in [*generator.modules(), *discriminator.modules()]:
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
    return generator, discriminator


def train(steps: int, seed: int, batch_size: int = 64, nz: int = 100) -> nn.Module:
    torch.manual_seed(seed)
    data = digits16()
    generator, discriminator = networks(nz)
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        real = data[torch.randint(len(data), (batch_size,))]
        fake = generator(torch.randn(batch_size, nz, 1, 1))
        real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
        loss_d = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        fake_logits = discriminator(fake)
        loss_g = bce(fake_logits, torch.ones_like(fake_logits))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return generator


@torch.no_grad()
def samples(generator: nn.Module, n: int, seed: int, nz: int = 100) -> torch.Tensor:
    noise = torch.randn(n, nz, 1, 1, generator=torch.Generator().manual_seed(seed))
    images = torch.cat([generator(noise[i : i + 64]) for i in range(0, n, 64)])  # training mode, as drawn
    return images.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--grid", default=None, help="write 64 samples as a PNG grid here")
    args = parser.parse_args()
    generator = train(args.steps, args.seed)
    images = samples(generator, args.n, 123)
    classifier, _ = digits_classifier()
    if args.grid:
        from torchvision.utils import save_image

        save_image(images[:64].float() / 255.0, args.grid, nrow=8, padding=1)
    print(
        json.dumps({"plain_dcgan_steps": args.steps, "seed": args.seed, **score_images(images, classifier)}, indent=2)
    )


if __name__ == "__main__":
    main()
