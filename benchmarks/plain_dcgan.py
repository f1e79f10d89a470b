"""The floor ganzoo's DCGAN must beat: a plain DCGAN in one file, trained on the same embedded
digits (16x16 from scikit-learn's 8x8, by whole pixels as ganzoo's ``digits`` dataset scales them;
``--upscale bilinear`` for the soft scaling), with the same steps and batch size as ``ganzoo
train dcgan``, then scored by digits_quality.py's classifier.

    python benchmarks/plain_dcgan.py [--steps 3000] [--seed 0] [--upscale nearest] [--grid plain.png]

Nothing from ganzoo is used for training: Adam(2e-4, 0.5), the non-saturating loss, N(0, 0.02)
initialisation, no augmentation, no moving average; samples are drawn the way the classic
DCGAN example draws them (the generator left in training mode, so BatchNorm uses the batch's
statistics, in batches of 64).

The other flags change one thing each, to measure what it does on these data (docs/benchmarks.md,
"Why were the digits blurry?"): ``--shift P`` moves every image D sees, real and fake, by up to
P pixels each way (DiffAugment's translation is 2 pixels at 16x16); ``--ema D`` also scores a
moving average of G's weights; ``--decay`` takes the learning rate linearly to 0 over the second
half; ``--r1 G`` adds the R1 penalty; ``--ngf``, ``--ndf``, ``--batch-size`` set the sizes;
``--lr`` both learning rates; ``--epoch-order`` draws batches from a fresh permutation each epoch
(as ganzoo does) instead of with replacement; ``--every N`` scores every N steps.
"""

from __future__ import annotations

import argparse
import copy
import json

import torch
import torch.nn.functional as F
from digits_quality import digits_classifier, score_images
from sklearn.datasets import load_digits
from torch import nn


def digits16(upscale: str = "nearest") -> torch.Tensor:
    images = torch.from_numpy(load_digits().images).float().div(16.0).unsqueeze(1)
    if upscale == "bilinear":
        images = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
    else:
        images = images.repeat_interleave(2, 2).repeat_interleave(2, 3)
    return images.clamp(0, 1).mul(255).round().div(127.5).sub(1.0)  # the uint8 round trip ganzoo makes


def networks(nz: int = 100, ngf: int = 64, ndf: int = 64) -> tuple[nn.Module, nn.Module]:
    generator = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),  # 4x4
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),  # 8x8
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False),  # 16x16
        nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1, bias=False),  # 8x8
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # 4x4
        nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
        nn.Flatten(0),
    )
    for module in [*generator.modules(), *discriminator.modules()]:
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
    return generator, discriminator


def shifted(images: torch.Tensor, pixels: int) -> torch.Tensor:
    """Each image moved by a random whole number of pixels in [-pixels, pixels] on both axes, the
    background (-1) filling in; differentiable, so G trains through it."""
    if pixels == 0:
        return images
    n, size = images.shape[0], images.shape[-1]
    padded = F.pad(images, [pixels] * 4, value=-1.0)
    dy, dx = (torch.randint(0, 2 * pixels + 1, (n,)) for _ in range(2))
    return torch.stack([padded[i, :, dy[i] : dy[i] + size, dx[i] : dx[i] + size] for i in range(n)])


@torch.no_grad()
def samples(generator: nn.Module, n: int, seed: int, nz: int = 100) -> torch.Tensor:
    noise = torch.randn(n, nz, 1, 1, generator=torch.Generator().manual_seed(seed))
    generator = copy.deepcopy(generator)  # drawing in training mode moves BatchNorm's running statistics
    images = torch.cat([generator(noise[i : i + 64]) for i in range(0, n, 64)])  # training mode, as drawn
    return images.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def train(args: argparse.Namespace, report) -> nn.Module:
    torch.manual_seed(args.seed)
    data, nz = digits16(args.upscale), 100
    generator, discriminator = networks(nz, args.ngf, args.ndf)
    average = copy.deepcopy(generator) if args.ema else None
    opt_g = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=args.lr, betas=(0.5, 0.999))
    per_epoch, order = len(data) // args.batch_size, torch.empty(0, dtype=torch.long)
    bce = nn.BCEWithLogitsLoss()
    for step in range(1, args.steps + 1):
        if args.decay and step > args.steps // 2:
            for group in [*opt_g.param_groups, *opt_d.param_groups]:
                group["lr"] = args.lr * (args.steps - step + 1) / (args.steps - args.steps // 2)
        if args.epoch_order:  # a fresh permutation each epoch, the last incomplete batch dropped
            position = (step - 1) % per_epoch
            order = torch.randperm(len(data)) if position == 0 else order
            indices = order[position * args.batch_size : (position + 1) * args.batch_size]
        else:
            indices = torch.randint(len(data), (args.batch_size,))
        real = data[indices].requires_grad_(args.r1 > 0)
        fake = generator(torch.randn(args.batch_size, nz, 1, 1))
        real_logits = discriminator(shifted(real, args.shift))
        fake_logits = discriminator(shifted(fake.detach(), args.shift))
        loss_d = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
        if args.r1:
            (gradients,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
            loss_d = loss_d + args.r1 / 2 * gradients.square().sum([1, 2, 3]).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        fake_logits = discriminator(shifted(fake, args.shift))
        loss_g = bce(fake_logits, torch.ones_like(fake_logits))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if average is not None:
            with torch.no_grad():
                for kept, live in zip(average.parameters(), generator.parameters()):
                    kept.lerp_(live, 1.0 - args.ema)
                for kept, live in zip(average.buffers(), generator.buffers()):
                    kept.copy_(live)
        if step % (args.every or args.steps) == 0:
            report(step, generator, average)
    return generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--upscale", choices=("nearest", "bilinear"), default="nearest")
    parser.add_argument("--shift", type=int, default=0, help="random shifts of D's inputs, in pixels")
    parser.add_argument("--ema", type=float, default=0.0, help="also score an average of G with this decay")
    parser.add_argument("--decay", action="store_true", help="learning rate linearly to 0 over the second half")
    parser.add_argument("--r1", type=float, default=0.0, help="R1 penalty weight gamma")
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of both networks")
    parser.add_argument("--epoch-order", action="store_true", help="batches from a permutation per epoch")
    parser.add_argument("--every", type=int, default=0, help="score every N steps (default: at the end)")
    parser.add_argument("--grid", default=None, help="write 64 final samples as a PNG grid here")
    args = parser.parse_args()
    classifier, _ = digits_classifier()

    def report(step: int, generator: nn.Module, average: nn.Module | None) -> None:
        images = samples(generator, args.n, 123)
        result = {"plain_dcgan_step": step, **vars(args), **score_images(images, classifier)}
        if average is not None:
            result["ema"] = score_images(samples(average, args.n, 123), classifier)
        print(json.dumps(result), flush=True)
        if args.grid and step == args.steps:
            from torchvision.utils import save_image

            save_image(images[:64].float() / 255.0, args.grid, nrow=8, padding=1)

    train(args, report)


if __name__ == "__main__":
    main()
