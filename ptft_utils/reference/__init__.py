"""NumPy reference implementations of chapter 02's formulas (see :mod:`ptft_utils.reference.formulas`)."""
