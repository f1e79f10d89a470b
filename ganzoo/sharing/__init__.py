"""Sharing models: a run packaged as a shared model (:mod:`ganzoo.sharing.package`) with its
model card, pushed to the Hugging Face Hub (:mod:`ganzoo.sharing.hub`) or exported to ONNX
(:mod:`ganzoo.sharing.onnx_export`). Reading shared models is :mod:`ganzoo.shared_models`."""
