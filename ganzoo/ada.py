"""Adaptive discriminator augmentation (ADA; Karras et al. 2020, "Training Generative Adversarial
Networks with Limited Data"): the augmentation pipeline.

Every image the discriminator sees, real or generated, in every phase, goes through the same
random pipeline, each transformation applied to each image with probability ``p``. Because the
transformations are differentiable and (at p < 0.8) do not leak into the generated
distribution, D cannot memorise a small dataset and G still learns the un-augmented images.
How ``p`` is tuned during training (the sign of D's outputs on reals against a target) is the
engine's part: ganzoo.training.critic_feedback.

Implemented groups (the paper's "bgc" pipeline, with its default strengths):

- pixel blitting: x-flip, rotation by a multiple of 90 degrees, integer translation by up to
  1/8 of the image (uniform);
- general geometric: isotropic scaling (log2-normal, sigma 0.2), rotation (uniform, with
  probability 1 - sqrt(1 - p) twice: before and after the anisotropic scaling), anisotropic
  scaling (log2-normal, sigma 0.2), fractional translation (normal, sigma 1/8 of the image);
- colour: brightness (added, normal sigma 0.2), contrast (log2-normal, sigma 0.5), and, on
  images with three channels, luma flip and hue rotation (uniform) and saturation (log2-normal,
  sigma 1).

The geometric transformations compose into one 3x3 matrix per image, applied by one bilinear
resampling with reflected borders (the paper resamples with a wavelet filter on an upsampled
image, which aliases less; on the small images ganzoo trains on a CPU the difference is below
what the tests can see). The colour transformations compose into one 4x4 matrix per image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["ada_augment"]

TRANSLATE_INT = 0.125  # of the image size, uniform
SCALE_STD = 0.2  # log2
ROTATE_MAX = 1.0  # of pi, uniform
ANISO_STD = 0.2  # log2
TRANSLATE_STD = 0.125  # of the image size, normal
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5  # log2
HUE_MAX = 1.0  # of pi, uniform
SATURATION_STD = 1.0  # log2


def ada_augment(images: torch.Tensor, p: float) -> torch.Tensor:
    """``images`` (N, C, H, W) in [-1, 1] through the pipeline with probability ``p`` per
    transformation and image; the images themselves (not a copy) when ``p`` is 0. Draws from
    torch's global random stream, so a checkpointed stream replays the same augmentations."""
    if p <= 0:
        return images
    n = images.shape[0]
    images = _geometric(images, _geometric_matrices(n, p, images.shape[-1], images.device))
    return _colour(images, p)


def _chosen(n: int, p: float, device: torch.device) -> torch.Tensor:
    """1.0 for the images a transformation applies to (each with probability ``p``), else 0."""
    return (torch.rand(n, device=device) < p).float()


def _matrix(n: int, device: torch.device, size: int = 3) -> torch.Tensor:
    return torch.eye(size, device=device).repeat(n, 1, 1)


def _scale(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    m = _matrix(len(sx), sx.device)
    m[:, 0, 0], m[:, 1, 1] = sx, sy
    return m


def _rotate(theta: torch.Tensor) -> torch.Tensor:
    m = _matrix(len(theta), theta.device)
    m[:, 0, 0], m[:, 0, 1] = theta.cos(), -theta.sin()
    m[:, 1, 0], m[:, 1, 1] = theta.sin(), theta.cos()
    return m


def _translate(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    m = _matrix(len(tx), tx.device)
    m[:, 0, 2], m[:, 1, 2] = tx, ty
    return m


def _geometric_matrices(n: int, p: float, size: int, device: torch.device) -> torch.Tensor:
    """Per image, where each output pixel samples the input, in the [-1, 1] coordinates of
    ``affine_grid`` (one pixel is 2/size). The distributions are symmetric, so drawing each
    transformation's inverse is drawing the transformation."""
    m = _matrix(n, device)
    flip = torch.randint(0, 2, (n,), device=device) * _chosen(n, p, device)
    m = m @ _scale(1 - 2 * flip, torch.ones(n, device=device))
    quarter = torch.randint(0, 4, (n,), device=device) * _chosen(n, p, device)
    m = m @ _rotate(quarter * (math.pi / 2))
    pixels = ((torch.rand(n, 2, device=device) * 2 - 1) * TRANSLATE_INT * size).round() * _chosen(n, p, device)[:, None]
    m = m @ _translate(pixels[:, 0] * 2 / size, pixels[:, 1] * 2 / size)
    iso = torch.exp2(torch.randn(n, device=device) * SCALE_STD * _chosen(n, p, device))
    m = m @ _scale(iso, iso)
    p_rotate = 1 - math.sqrt(max(0.0, 1 - p))  # twice: the chance of any rotation is p
    m = m @ _rotate((torch.rand(n, device=device) * 2 - 1) * math.pi * ROTATE_MAX * _chosen(n, p_rotate, device))
    aniso = torch.exp2(torch.randn(n, device=device) * ANISO_STD * _chosen(n, p, device))
    m = m @ _scale(aniso, 1 / aniso)
    m = m @ _rotate((torch.rand(n, device=device) * 2 - 1) * math.pi * ROTATE_MAX * _chosen(n, p_rotate, device))
    shift = torch.randn(n, 2, device=device) * TRANSLATE_STD * 2 * _chosen(n, p, device)[:, None]
    return m @ _translate(shift[:, 0], shift[:, 1])


def _geometric(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(matrices[:, :2, :].to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _colour(images: torch.Tensor, p: float) -> torch.Tensor:
    n, channels, device = images.shape[0], images.shape[1], images.device
    brightness = torch.randn(n, device=device) * BRIGHTNESS_STD * _chosen(n, p, device)
    contrast = torch.exp2(torch.randn(n, device=device) * CONTRAST_STD * _chosen(n, p, device))
    if channels != 3:  # grey (or other) images: brightness, then contrast, on every channel alike
        return (images + brightness[:, None, None, None]) * contrast[:, None, None, None]
    m = _matrix(n, device, 4)
    m[:, :3, 3] += brightness[:, None]
    m = _diagonal(contrast) @ m
    luma = torch.full((3,), 1 / math.sqrt(3), device=device)  # the grey axis
    outer = torch.outer(luma, luma)
    flip = torch.randint(0, 2, (n,), device=device) * _chosen(n, p, device)
    householder = _matrix(n, device, 4)
    householder[:, :3, :3] -= 2 * outer * flip[:, None, None]  # mirror the colours through grey
    m = householder @ m
    hue = (torch.rand(n, device=device) * 2 - 1) * math.pi * HUE_MAX * _chosen(n, p, device)
    m = _rotate_about(luma, hue) @ m
    saturation = torch.exp2(torch.randn(n, device=device) * SATURATION_STD * _chosen(n, p, device))
    scaled = _matrix(n, device, 4)
    scaled[:, :3, :3] = outer + (torch.eye(3, device=device) - outer) * saturation[:, None, None]
    m = scaled @ m
    flat = images.flatten(2)  # (N, 3, H*W)
    out = m[:, :3, :3].to(images.dtype) @ flat + m[:, :3, 3:].to(images.dtype)
    return out.view_as(images)


def _diagonal(values: torch.Tensor) -> torch.Tensor:
    m = _matrix(len(values), values.device, 4)
    m[:, 0, 0] = m[:, 1, 1] = m[:, 2, 2] = values
    return m


def _rotate_about(axis: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Rotation by ``theta`` about the unit ``axis`` (Rodrigues), as 4x4 colour matrices."""
    x, y, z = axis.tolist()
    cross = torch.tensor([[0, -z, y], [z, 0, -x], [-y, x, 0]], device=theta.device)
    outer = torch.outer(axis, axis)
    c, s = theta.cos()[:, None, None], theta.sin()[:, None, None]
    m = _matrix(len(theta), theta.device, 4)
    m[:, :3, :3] = c * torch.eye(3, device=theta.device) + s * cross + (1 - c) * outer
    return m
