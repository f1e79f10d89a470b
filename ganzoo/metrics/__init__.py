"""Evaluation: feature extractors (a registry), FID/KID/IS/precision-recall, real statistics."""
