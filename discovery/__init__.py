"""Django-free core of the ideation space (Navigating Ideation Space): segmentation of
abstracts into problem / method / findings, aspect encoders, FAISS indexes, search,
novelty assessment, inspiration retrieval and idea generation.

The one vocabulary: ASPECTS, the parts of a paper; SPACES, the vector spaces each paper has
(its whole text, then one per aspect), in the order the indexes store them."""

ASPECTS = ("problem", "method", "findings")
SPACES = ("paper",) + ASPECTS
