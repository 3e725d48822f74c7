"""LLM.int8() layer: matches the float layer, routes outliers through floating point."""
import pytest
import torch

from inference import int8 as q8
from inference import kernels

# Tolerance: relative error of y against the fp32 layer, as ||y - y_fp|| / ||y_fp||. Row-wise
# int8 of x and W with 127 levels each gives ~1%; 3% leaves room for unlucky draws.
REL_TOL = 0.03


def rel_err(y, ref):
    return ((y - ref).norm() / ref.norm()).item()


def layer(n=1536, k=576, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=g) * 0.05, torch.randn(3, k, generator=g)


@pytest.mark.parametrize("m", [1, 3, 40])  # decode GEMV path and the prompt-block GEMM path
def test_it_matches_the_float_layer_without_outliers(m):
    w, _ = layer()
    x = torch.randn(m, w.shape[1])
    y = q8.int8_linear(x, q8.quantize_weight(w), threshold=6.0)
    assert rel_err(y, x @ w.t()) < REL_TOL


@pytest.mark.parametrize("m", [1, 40])
def test_it_matches_the_float_layer_with_outlier_features(m):
    w, _ = layer()
    x = torch.randn(m, w.shape[1])
    x[:, 7] = 60.0    # calibrated outlier column
    x[:, 300] = -25.0  # outlier the calibration never saw
    y = q8.int8_linear(x, q8.quantize_weight(w, torch.tensor([7])), threshold=6.0)
    assert rel_err(y, x @ w.t()) < REL_TOL


def test_it_is_broken_without_the_decomposition():
    """The same outliers through plain int8 (threshold out of reach) drown the ordinary features:
    measured against the part of y that the ordinary features make, the error explodes."""
    w, _ = layer()
    x = torch.randn(1, w.shape[1])
    x[:, 7], x[:, 300] = 100.0, -25.0  # the paper sees outliers up to ~100x the typical feature
    ordinary = x.clone()
    ordinary[:, [7, 300]] = 0.0
    scale = (ordinary @ w.t()).norm()
    naive = q8.int8_linear(x, q8.quantize_weight(w), threshold=1e9)
    mixed = q8.int8_linear(x, q8.quantize_weight(w, torch.tensor([7])), threshold=6.0)
    assert ((mixed - x @ w.t()).norm() / scale).item() < REL_TOL
    assert ((naive - x @ w.t()).norm() / scale).item() > 5 * REL_TOL  # measured: ~0.25


def test_it_routes_outliers_through_floating_point():
    """Zero every int8 weight: what is left of y must be exactly the fp outlier columns' product."""
    w, _ = layer()
    wt = q8.quantize_weight(w, torch.tensor([7]))
    wt.q.zero_()
    wt.rowsum.zero_()
    x = torch.randn(2, w.shape[1]).clamp(-2, 2)
    x[:, 7] = 40.0
    y = q8.int8_linear(x, wt, threshold=6.0)
    expected = x[:, [7]] @ wt.outl_w.float()
    assert torch.allclose(y, expected, rtol=1e-5, atol=1e-5)
    assert wt.outl_w.dtype == torch.float16 and torch.all(wt.q[:, 7] == 0)


def test_it_routes_runtime_outliers_through_floating_point():
    """An uncalibrated column above the threshold is left out of the activation's int8 scale."""
    w, _ = layer()
    wt = q8.quantize_weight(w)
    x = torch.zeros(1, w.shape[1])
    x[0, 0] = 0.01
    x[0, 300] = 50.0
    y = q8.int8_linear(x, wt, threshold=6.0)
    # Had 300 been quantized with the row, 0.01 would round to 0 (step 50/127); kept apart it survives.
    exact = 0.01 * q8.dequantize(wt)[:, 0] + 50.0 * q8.dequantize(wt)[:, 300]
    assert torch.allclose(y[0], exact, rtol=1e-3, atol=1e-5)


@pytest.mark.skipif(not kernels.available(), reason="no int8 kernel for this CPU (needs AVX-512 VNNI or AVX2)")
@pytest.mark.parametrize("m,n,k", [(1, 581, 576), (5, 64, 1536), (33, 581, 576)])
def test_it_agrees_with_the_reference_implementation(m, n, k):
    w = torch.randn(n, k) * 0.05
    wt = q8.quantize_weight(w, torch.tensor([3, 100]))
    x = torch.randn(m, k)
    x[:, 3], x[0, 50] = 30.0, 9.0
    assert torch.allclose(q8.int8_linear(x, wt, 6.0), q8.int8_linear_reference(x, wt, 6.0), atol=1e-4, rtol=1e-4)


def test_it_fuses_norm_swiglu_and_residual():
    w = torch.randn(64, 576) * 0.05
    wt = q8.quantize_weight(w)
    x, r, g = torch.randn(2, 1152), torch.randn(2, 64), torch.rand(576) + 0.5
    gate, up = x.chunk(2, -1)
    h = torch.nn.functional.silu(gate) * up
    fused = q8.int8_linear(x, wt, 6.0, silu_mul=True, residual=r)
    assert torch.allclose(fused, q8.int8_linear_reference(h, wt, 6.0) + r, atol=1e-4)
    hn = torch.nn.functional.rms_norm(gate, (576,), g, 1e-5)
    assert torch.allclose(q8.int8_linear(gate, wt, 6.0, norm=g), q8.int8_linear_reference(hn, wt, 6.0), atol=1e-4)


def test_it_finds_outlier_columns_from_calibration_activations():
    acts = torch.randn(1000, 64)
    acts[::10, 5] = 8.0
    acts[0, 9] = 7.0  # one token in a thousand: below min_outlier_rows, left to the run-time check
    cols = q8.outlier_columns(acts, q8.Int8Config(threshold=6.0, min_outlier_rows=0.002))
    assert cols.tolist() == [5]
