"""Device resolution: auto falls back to the CPU; an absent GPU is a clear error."""

import pytest
import torch

from ptft_utils.kit.device import DeviceUnavailableError
from ptft_utils.kit.params import ParameterError
from ptft_utils.train.device import torch_device


def test_cpu_is_always_available():
    assert torch_device("cpu") == torch.device("cpu")


def test_auto_picks_cuda_when_present_else_cpu():
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert torch_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_says_so_and_what_to_do():
    with pytest.raises(DeviceUnavailableError, match="device='cuda' was requested but PyTorch sees no CUDA GPU"):
        torch_device("cuda")


def test_unknown_device_is_a_parameter_error():
    with pytest.raises(ParameterError, match="'device' = 'tpu'"):
        torch_device("tpu")


def test_set_cpu_threads_sizes_torch_and_zero_leaves_it():
    from ptft_utils.train.device import set_cpu_threads

    before = torch.get_num_threads()
    try:
        set_cpu_threads(1)
        assert torch.get_num_threads() == 1
        set_cpu_threads(0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_set_cpu_threads_refuses_a_negative_count():
    from ptft_utils.train.device import set_cpu_threads

    with pytest.raises(ParameterError, match="'cpu_threads' = -1"):
        set_cpu_threads(-1)
