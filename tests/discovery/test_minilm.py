"""The encoder's Int8 forward (discovery.minilm) and its AVX-512 kernels (csrc/minilm_ops.cpp),
against PyTorch's float32 references and the Hugging Face model."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from discovery import encoder, kernels
from discovery.minilm import FastMiniLM

TEXTS = ["We propose a graph neural network for molecule property prediction.",
         "Results show a 3% gain in accuracy over strong baselines, and the code is public.",
         "Short."]


@pytest.fixture(scope="module")
def ops():
    mod = kernels.ops()
    if mod is None:
        pytest.skip("no AVX-512 (or no compiler): the encoder uses PyTorch's paths")
    return mod


def reference_attention(qkv, lengths, heads):
    b, length, _ = qkv.shape
    q, k, v = qkv.view(b, length, 3, heads, -1).permute(2, 0, 3, 1, 4)
    mask = torch.arange(length)[None, :] < lengths[:, None]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
    return out.transpose(1, 2).reshape(b, length, -1), mask


def test_attention_matches_pytorch_and_zeroes_padding(ops):
    torch.manual_seed(0)
    qkv = torch.randn(3, 37, 3 * 4 * 32) * 2  # 37: a tail of 5 keys past two 16-key blocks
    lengths = torch.tensor([37, 20, 1])
    want, mask = reference_attention(qkv, lengths, heads=4)
    got = ops.attention(qkv, lengths, 4)
    torch.testing.assert_close(got[mask], want[mask], atol=1e-4, rtol=1e-4)
    assert got[~mask].abs().max() == 0


def test_int8_linear_is_vector_wise_int8_then_gelu_or_residual_layer_norm(ops):
    torch.manual_seed(1)
    x, w, bias = torch.randn(5, 64), torch.randn(48, 64), torch.randn(48)
    x[0] *= 100  # one loud token must not coarsen the others' scales
    w_scale = w.abs().amax(1) / 127
    wq = torch.round(w / w_scale[:, None]).to(torch.int8)
    x_scale = x.abs().amax(1, keepdim=True) / 127
    want = (torch.round(x / x_scale) * x_scale) @ (wq.float() * w_scale[:, None]).T + bias
    got = ops.int8_linear(x, wq.T.contiguous(), w_scale, bias, False)
    torch.testing.assert_close(got, want, atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(ops.int8_linear(x, wq.T.contiguous(), w_scale, bias, True), F.gelu(want),
                               atol=1e-3, rtol=1e-4)
    residual, gamma, beta = torch.randn(5, 48), torch.rand(48) + 0.5, torch.randn(48)
    torch.testing.assert_close(ops.int8_linear(x, wq.T.contiguous(), w_scale, bias, False, residual, gamma, beta, 1e-5),
                               F.layer_norm(want + residual, (48,), gamma, beta, 1e-5), atol=1e-4, rtol=1e-4)
    # float32 through the same weights: the quiet tokens stay within 1% of it
    exact = x @ (wq.float() * w_scale[:, None]).T + bias
    assert ((got[1:] - exact[1:]).norm(dim=1) / exact[1:].norm(dim=1)).max() < 0.01


@pytest.fixture(scope="module")
def hf_model():
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder.model_path()), AutoModel.from_pretrained(encoder.model_path()).eval()


def pooled(hidden, mask):
    v = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return F.normalize(v, dim=-1)


@pytest.mark.parametrize("with_kernel", [True, False])
def test_fast_minilm_stays_close_to_the_float32_model(hf_model, with_kernel, request):
    tokenizer, model = hf_model
    kernel = request.getfixturevalue("ops") if with_kernel else None
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        want = pooled(model(**batch).last_hidden_state, batch["attention_mask"])
        got = pooled(FastMiniLM(model, kernel)(batch["input_ids"], batch["attention_mask"]), batch["attention_mask"])
    assert (got * want).sum(1).min() > (0.99 if with_kernel else 0.97)


def test_a_text_gets_the_same_vector_alone_and_in_a_batch(hf_model, ops):
    tokenizer, model = hf_model
    fast = FastMiniLM(model, ops)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    alone = tokenizer(TEXTS[2:], return_tensors="pt")
    with torch.inference_mode():
        in_batch = pooled(fast(batch["input_ids"], batch["attention_mask"]), batch["attention_mask"])[2]
        by_itself = pooled(fast(alone["input_ids"], alone["attention_mask"]), alone["attention_mask"])[0]
    np.testing.assert_allclose(in_batch.numpy(), by_itself.numpy(), atol=1e-5)
