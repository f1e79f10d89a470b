"""Built-in plugin: evaluation metrics and feature extractors."""

from ganzoo.plugin import MetricSpec, hookimpl


@hookimpl
def register_metrics(register):
    for name, summary, build in (
        ("fid", "Frechet Inception Distance (Heusel et al. 2017), lower is better", "FID"),
        ("kid", "Kernel Inception Distance (Binkowski et al. 2018): unbiased, good for few samples", "KID"),
        (
            "is",
            "Inception Score (Salimans et al. 2016), higher is better; needs a classifier's logits",
            "InceptionScore",
        ),
        ("pr", "improved precision and recall (Kynkaanniemi et al. 2019): fidelity and coverage", "PrecisionRecall"),
    ):
        register(MetricSpec(name=name, summary=summary, build=f"ganzoo.metrics.scores:{build}"))
    register(
        MetricSpec(
            name="inception",
            kind="feature-extractor",
            summary="Inception-v3 with the 2015 TF weights (2048-d), the standard for FID/KID/IS",
            build="ganzoo.metrics.extractors:InceptionExtractor",
        )
    )
    register(
        MetricSpec(
            name="digits",
            kind="feature-extractor",
            summary="a small CNN trained on scikit-learn's digits on first use (64-d): offline evaluation",
            build="ganzoo.metrics.digits_net:DigitsExtractor",
        )
    )
