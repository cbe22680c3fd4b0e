"""Device and thread-count parameters, checked without loading a framework.

A chapter's ``device`` parameter (``auto``, ``cpu``, ``cuda``, ``mps``) and ``cpu_threads`` knob
are validated here, with the same :class:`~ptft_utils.kit.params.ParameterError` as every other
parameter. What each framework does with them lives with the framework:
:func:`ptft_utils.train.device.torch_device` and :func:`ptft_utils.train.device.set_cpu_threads`
for PyTorch, :func:`ptft_utils.keras.device.configure_tensorflow` for TensorFlow.
"""

from __future__ import annotations

from ptft_utils.kit.params import DEVICES, ParameterError


class DeviceUnavailableError(RuntimeError):
    """The requested device is not present on this machine."""


def check_device(device: str) -> None:
    """Raise :class:`ParameterError` unless ``device`` is one of :data:`DEVICES`."""
    if device not in DEVICES:
        raise ParameterError("device", device, "one of " + ", ".join(repr(d) for d in DEVICES))


def check_threads(threads: object) -> int:
    """``cpu_threads`` as an int >= 0 (0 leaves a framework's default), else :class:`ParameterError`."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ParameterError("cpu_threads", threads, "an integer >= 0 (0 leaves the framework default)")
    return threads
