"""The machinery that builds the book, apart from what students import.

``build`` executes the notebooks (``python -m nnutils.book.build``), ``report`` makes the generated results and
running-times pages, ``bench`` times the training loops for the benchmark appendix (``python -m nnutils.book.bench``).
"""
