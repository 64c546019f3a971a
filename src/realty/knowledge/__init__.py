"""The knowledge base: packaged guides, BM25 retrieval, extractive answers (docs/knowledge.md)."""
