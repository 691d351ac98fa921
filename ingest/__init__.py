"""sesam's base layer: documents → pages → chunks → embeddings → an index version on disk."""
