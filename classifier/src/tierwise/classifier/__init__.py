"""Tierwise router model (classifier). Import submodules explicitly; this package stays light.

- ``tierwise.classifier.runtime``: inference (numpy + onnxruntime + tokenizers only).
- ``tierwise.classifier.train``: end-to-end training (needs the ``train`` extra), running the
  stages in ``tierwise.classifier.pipeline``.
"""
