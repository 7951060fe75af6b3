"""Shared by the PyTorch benchmark scripts: which BLAS torch runs on."""
import torch


def blas_library():
    """The BLAS shared libraries mapped into this process after a matmul
    (Debian's torch 1.13 calls libblas.so.3: netlib's unblocked reference
    BLAS unless OpenBLAS provides that alternative)."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in path.lower() or "mkl" in path.lower():
                libs.add(path)
    return sorted(libs)
