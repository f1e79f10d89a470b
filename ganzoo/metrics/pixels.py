"""Per-pixel scores of outputs against their targets (translation and inpainting): sums over
the batch, so callers average over the examples they scored."""

from __future__ import annotations

import torch

#: Whether a larger value is better, for each score pixel_scores computes.
HIGHER_IS_BETTER = {"l1": False, "l1_hole": False, "psnr": True, "ssim": True}


def pixel_scores(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, float]:
    """Sums over the batch of L1, PSNR and SSIM (images in [0, 1]); with a mask (1 = hole), also
    the L1 inside the hole (per hole pixel and channel)."""
    # lazy: torchmetrics takes seconds to import; only these scores need it
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    n = output.shape[0]
    error = (output - target).abs()
    # torchmetrics types this Tensor | tuple; a tuple comes only with return_full_image=True
    ssim: torch.Tensor = structural_similarity_index_measure(output, target, data_range=1.0)  # type: ignore[assignment]
    scores = {
        "l1": float(error.mean(dim=(1, 2, 3)).sum()),
        "psnr": float(peak_signal_noise_ratio(output, target, data_range=1.0, reduction="none", dim=(1, 2, 3)).sum()),
        "ssim": float(ssim * n),
    }
    if mask is not None:
        holes = mask.sum(dim=(1, 2, 3)).clamp_min(1) * output.shape[1]
        scores["l1_hole"] = float(((error * mask).sum(dim=(1, 2, 3)) / holes).sum())
    return scores
