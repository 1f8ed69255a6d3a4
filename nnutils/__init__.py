"""nnutils: the small helper package behind the neural-network workbook.

One module per concern: ``data`` (datasets), ``models`` (PyTorch nets),
``training`` (the one training loop), ``plotting`` (figures), ``profiles``
(full / ci settings) and ``results`` (numbers a notebook records for the book).
"""

__version__ = "0.1.0"
