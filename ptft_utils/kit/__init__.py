"""The notebook contract, with no framework: parameters, records, the runner and the ``ptft`` command.

``params`` (profiles, knobs, ``ParameterError``), ``results`` (the ``Recorder`` and
``metrics.json``), ``runner`` (papermill runs and the book build), ``cli`` (``ptft``), ``repro``
(seeding Python and NumPy, the environment), ``device`` (checking the device parameter) and
``atomic`` (writes that never leave half a file).
"""
