"""Scale-out: parameter sweeps on a process pool or Ray, and multi-process training with torchrun."""
