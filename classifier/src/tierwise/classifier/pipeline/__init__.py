"""Training as typed stages; each takes the TrainConfig and earlier stages' frozen outputs.

data.load_training_data      -> TrainingData    items, texts, held-out mask and indices
embeddings.embed_items        -> Embeddings      MiniLM embeddings of every item
targets.fit_targets           -> Targets         IRT difficulty / outcomes, output length
features.build_features       -> Features        per-encoder embedding and head input
heads.fit_heads               -> Heads           per-encoder heads, abilities and IRT scale
graphs.export_graphs          -> Graphs          ONNX graphs + tokenizers in a staging dir
manifest.write_manifest       -> Bundle          + manifest.json: loadable by the runtime
report.report_bundle          -> Report          metrics through the runtime, final manifest
install.install_bundle        -> file sizes      the bundle copied to its output directory

train.train runs them in this order. An evaluation can stop after any of them (e.g. data,
embeddings, targets and features with a different held-out mask, no graphs exported).
"""
