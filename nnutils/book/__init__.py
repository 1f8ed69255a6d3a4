"""The machinery that builds the book, apart from what students import.

``build`` executes the notebooks (``python -m nnutils.book.build``), ``report`` makes the generated results and
running-times pages (with ``timings``, and ``recorded`` for the builds copied into ``book/timings``), ``bench`` times
the training loops for the benchmark appendix (``python -m nnutils.book.bench``). The build's parts: ``hashes`` (what
makes a notebook unchanged), ``pool`` (worker processes, a clean stop on Ctrl-C), ``runner`` (one notebook under
papermill in a worker), ``progress`` (what the build prints as it goes); ``browser`` finds the Chromium for the
site's browser test.
"""
