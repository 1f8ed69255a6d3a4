"""nnutils: the small helper package behind the neural-network workbook, in three layers.

Core, used by every chapter: ``data`` (datasets; ``downloads`` fetches them), ``models`` (PyTorch nets),
``training`` (the one training loop and its callbacks), ``ensemble`` (many small nets trained at once), ``history``
(``History`` and the one ``Run`` type, torch-free), ``plotting``, ``metrics``, ``animation``, ``sweep`` (seed and
setting searches), ``profiles`` (full / ci settings), ``results`` and ``references`` (numbers recorded against the
reports' figures), ``prose`` (sentences written by the run), ``files`` (atomic writes) and ``weights`` (models on disk).

From scratch: ``scratch``, layers, losses and an SGD loop in NumPy alone (it imports without torch).

Chapter topics: ``spirals``, ``grid_task``, ``unit_maps`` (chapter 2); ``encoders``, ``encoder_tasks``,
``recurrent``, ``languages``, ``language_plots`` (3); ``backprop``, ``cnn_experiments``, ``mlp_sweeps``,
``backprop_plots`` (4a); ``convnets`` (4b); ``autoencoders``, ``pca`` (5); ``exercises`` (the exercises' checkers)
and ``widgets`` (the views that need a kernel, one or more per chapter). Import them by module, e.g. ``from nnutils
import spirals as sp``.

The book's own machinery (``nnutils.book``: build, report, timings, bench) sits apart; the chapters never import it.
"""

__version__ = "0.1.0"
