"""Tierwise router model (classifier). Import submodules explicitly; this package stays light.

- ``tierwise.classifier.runtime``: inference (numpy + onnxruntime + tokenizers only).
- ``tierwise.classifier.train``: end-to-end training (needs the ``train`` extra).
"""
