"""Django-free core of the ideation space (Navigating Ideation Space): segmentation of
abstracts into problem / method / findings, aspect encoders, FAISS indexes, search,
novelty assessment, inspiration retrieval and idea generation."""

ASPECTS = ("problem", "method", "findings")
