"""The model card (README.md) of a shared model: the Hub's metadata block, then what a reader
needs: what it is, how to use it, how it was trained, how it scores, what it draws."""

from __future__ import annotations

from typing import Any

#: Licences of the datasets ganzoo knows (what a card must state about the training data).
DATASET_LICENCES = {
    "digits": "CC BY 4.0 (UCI Optical Recognition of Handwritten Digits, via scikit-learn)",
    "mnist": "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
    "fashion-mnist": "MIT (Zalando Research)",
    "cifar10": "no licence stated by its authors (Krizhevsky 2009); used for research",
}
PIPELINE_TAGS = {"sample": "unconditional-image-generation", "translate": "image-to-image", "inpaint": "image-to-image"}


def model_card(config: dict[str, Any], metrics: dict[str, Any], has_samples: bool, title: str) -> str:
    model, dataset = config["model"], config.get("dataset") or "?"
    inference = config.get("inference") or ["sample"]
    licence = DATASET_LICENCES.get(dataset, "see the dataset's own terms (`ganzoo info " + dataset + "`)")
    training = config.get("training", {})
    front = [
        "---",
        "library_name: ganzoo",
        f"pipeline_tag: {PIPELINE_TAGS.get(inference[0], 'unconditional-image-generation')}",
        "tags: [ganzoo, gan, " + model + "]",
        f"datasets: [{dataset}]",
        "---",
    ]
    plugin = config.get("plugin", {})
    lines = [
        f"# {title}",
        "",
        f"A `{model}` generator trained with [ganzoo](https://github.com/ganzoo/ganzoo) on `{dataset}` "
        f"at {config.get('resolution')}x{config.get('resolution')} pixels, {config.get('channels')} channel(s), "
        f"for {config.get('step', '?'):,} steps."
        if isinstance(config.get("step"), int)
        else f"A `{model}` generator.",
        "",
        "## How to use",
        "",
        "```bash",
        f"pip install ganzoo{' ' + plugin['package'] if plugin.get('package') not in (None, 'ganzoo') else ''}",
        "ganzoo generate hf://OWNER/NAME --n 64 --grid samples.png --seed 7"
        if "sample" in inference
        else f"ganzoo {inference[0]} hf://OWNER/NAME ...",
        "```",
        "",
        "```python",
        "import ganzoo",
        "model = ganzoo.load('hf://OWNER/NAME')",
        "images = model.generate(16, seed=0)  # uint8 (16, C, H, W)" if "sample" in inference else "model.model()",
        "```",
        "",
        f"Outputs: {config.get('output_range', '')}.",
        "The weights are `model.safetensors` (no pickle), checked against the SHA-256 in `config.json` on load.",
        "",
        "## Training data",
        "",
        f"`{dataset}`; licence: {licence}.",
        "",
        "## Training procedure",
        "",
        f"Model `{model}` from plugin `{plugin.get('name')}` ({plugin.get('package')} {plugin.get('version')}), "
        f"ganzoo {config.get('ganzoo_version')}. Batch size {training.get('batch_size')}, seed {training.get('seed')}, "
        f"{'EMA of the generator' if training.get('ema_decay') else 'the moving average of the generator where the model keeps one'}. "
        "Every setting is in `ganzoo.toml` (`ganzoo train --config ganzoo.toml` trains it again); the model's "
        "options are in `config.json`.",
        "",
        "## Evaluation",
        "",
        *evaluation_lines(metrics),
        "",
    ]
    if has_samples:
        lines += ["## Samples", "", "![samples](samples.png)", ""]
    return "\n".join(front + lines)


def evaluation_lines(metrics: dict[str, Any]) -> list[str]:
    latest, protocol = metrics.get("latest"), metrics.get("protocol") or {}
    if not latest:
        return ["Not evaluated: `ganzoo eval RUN` scores a run before it is shared."]
    rows = ["| metric | value |", "| --- | --- |"] + [
        f"| {key} | {value:.4g} |" for key, value in sorted(latest["eval"].items()) if isinstance(value, (int, float))
    ]
    described = (
        f"Measured by `ganzoo eval` at step {latest.get('step')}: {protocol.get('samples')} generated samples "
        f"against {protocol.get('real_images')} real images of the `{protocol.get('split')}` split, features of "
        f"the `{protocol.get('feature_extractor')}` extractor"
        + (", with the generator's moving average" if protocol.get("ema") else "")
        + " (`metrics.json` has every evaluation)."
    )
    return [described, "", *rows]
