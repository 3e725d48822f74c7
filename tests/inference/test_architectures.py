"""Each supported family, as a tiny random transformers model, through the int8 engine against
transformers fp32; any other family refused from its header in under a second."""
import time

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (AutoModelForCausalLM, GPT2Config, LlamaConfig, MistralConfig, PreTrainedTokenizerFast,
                          Qwen2Config, Qwen3Config)

from inference import architectures, loading

SIZE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            vocab_size=260, max_position_embeddings=2048, rms_norm_eps=1e-6)
LLAMA3_ROPE = {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 64}  # short, so it binds on a test text
CONFIGS = {
    "llama-tied": lambda: LlamaConfig(**SIZE, tie_word_embeddings=True),
    "llama-untied": lambda: LlamaConfig(**SIZE, tie_word_embeddings=False),
    "llama-bias": lambda: LlamaConfig(**SIZE, attention_bias=True, tie_word_embeddings=False),
    "llama3-rope": lambda: LlamaConfig(**SIZE, tie_word_embeddings=False, rope_parameters=LLAMA3_ROPE),
    "mistral": lambda: MistralConfig(**SIZE, sliding_window=None),
    "qwen2": lambda: Qwen2Config(**SIZE, tie_word_embeddings=True),
    "qwen3": lambda: Qwen3Config(**SIZE, head_dim=32, tie_word_embeddings=False),  # head_dim != 64 / 4
}
TEXT = ("Protein language models learn residue contacts without supervision; attention maps recover them. "
        "We test sparse attention on long documents and report 72.4% precision at L/5 on CASP14 targets.")


def byte_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE without merges: 256 byte tokens plus the chat specials, no download."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())  # a set underneath: sorted, so ids are stable
    tk = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", bos_token="<|im_start|>")


def tiny_model(name: str, folder):
    """A random model whose biases and norm weights are random too (transformers starts them at 0 and 1,
    which would hide a dropped bias or a skipped norm)."""
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(CONFIGS[name]()).eval()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("bias"):
                p.normal_(0.0, 0.5)
            elif "norm" in pname:
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.15)
    model.save_pretrained(folder)
    byte_tokenizer().save_pretrained(folder)
    return model


def perplexity(logits: torch.Tensor, ids: torch.Tensor) -> float:
    return torch.nn.functional.cross_entropy(logits[:-1].float(), ids[1:]).exp().item()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "cache_dir", lambda: tmp_path / "cache")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_it_matches_transformers_fp32(name, tmp_path, private_cache):
    ref = tiny_model(name, tmp_path / name)
    model, tok = loading.load_int8(tmp_path / name)
    ids = torch.tensor(tok(TEXT).input_ids)
    with torch.inference_mode():
        want = ref(ids[None]).logits[0]
    got = model.forward(ids, 0, all_logits=True)
    cos = torch.nn.functional.cosine_similarity(got.flatten(), want.flatten(), dim=0).item()
    assert cos >= 0.999, f"{name}: logits cosine {cos:.4f}"
    assert abs(perplexity(got, ids) / perplexity(want, ids) - 1) < 0.01
    # one-token decode steps over the cache agree with the full forward
    model.forward(ids[:-1], 0)
    step = model.forward(ids[-1:], len(ids) - 1)[-1]
    assert torch.nn.functional.cosine_similarity(step, got[-1], dim=0).item() > 0.9999


def test_it_implements_llama3_rope_scaling_as_transformers_does():
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    cfg = CONFIGS["llama3-rope"]()
    want, _ = ROPE_INIT_FUNCTIONS["llama3"](cfg)
    got = architectures.rope_inv_freq(cfg)
    assert torch.allclose(got.float(), want, rtol=1e-5)
    assert not torch.allclose(got, architectures.rope_inv_freq(CONFIGS["llama-untied"]()))  # it does bind


def test_it_refuses_another_architecture_before_loading_weights(tmp_path, private_cache):
    folder = tmp_path / "gpt2"
    AutoModelForCausalLM.from_config(GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=260)).save_pretrained(folder)
    t = time.perf_counter()
    with pytest.raises(architectures.UnsupportedModel, match=r"'gpt2' is not supported .*supported: llama"):
        loading.load_int8(folder)
    assert time.perf_counter() - t < 1.0


def write_gguf(model, path, arch: str = "qwen2") -> None:
    """A float32 GGUF of a tiny model with the byte tokenizer, laid out as llama.cpp's converter does:
    Llama's q and k rows permuted to ggml's rotary layout, Llama 3.1 RoPE as a rope_freqs tensor."""
    import gguf

    c, tok = model.config, byte_tokenizer()
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(c.num_hidden_layers)
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_rope_dimension_count(architectures.head_dim_of(c))
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    vocab = [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])] + ["Ġt"]  # one merge's product
    w.add_token_list(vocab + [f"<pad{i}>" for i in range(c.vocab_size - len(vocab))])
    w.add_token_types([1] * c.vocab_size)
    w.add_token_merges(["Ġ t"])
    w.add_eos_token_id(tok.eos_token_id)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA if arch == "llama" else gguf.MODEL_ARCH.QWEN2,
                                     c.num_hidden_layers)
    for name, p in model.state_dict().items():
        x = p.detach().float().numpy()
        heads = {"q_proj.weight": c.num_attention_heads, "k_proj.weight": c.num_key_value_heads}
        if arch == "llama" and name.split("self_attn.")[-1] in heads:
            n = heads[name.split("self_attn.")[-1]]
            x = x.reshape(n, 2, x.shape[0] // n // 2, x.shape[1]).swapaxes(1, 2).reshape(x.shape)
        w.add_tensor(names.get_name(name, try_suffixes=(".weight", ".bias")), x)
    if architectures.rope_parameters(c)["rope_type"] == "llama3":
        plain = architectures.rope_inv_freq(CONFIGS["llama-untied"]())
        w.add_tensor("rope_freqs.weight", (plain / architectures.rope_inv_freq(c)).float().numpy())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.mark.parametrize("name,arch", [("qwen2", "qwen2"), ("llama3-rope", "llama")])
def test_it_loads_a_gguf(name, arch, tmp_path, private_cache):
    ref = tiny_model(name, tmp_path / "hf")
    write_gguf(ref, tmp_path / f"tiny-{name}.gguf", arch)
    model, tok = loading.load_int8(tmp_path / f"tiny-{name}.gguf")
    ids = torch.tensor(tok(TEXT).input_ids)
    with torch.inference_mode():
        want = ref(ids[None]).logits[0]
    got = model.forward(ids, 0, all_logits=True)
    assert torch.nn.functional.cosine_similarity(got.flatten(), want.flatten(), dim=0).item() >= 0.999


def test_it_refuses_an_unsupported_gguf_from_its_header(tmp_path, private_cache):
    import gguf
    import numpy as np

    path = tmp_path / "gemma3-tiny.gguf"
    w = gguf.GGUFWriter(str(path), "gemma3")
    w.add_block_count(2)
    w.add_token_list([f"tok{i}" for i in range(50_000)])  # a tokenizer-sized array the check must not parse
    w.add_tensor("token_embd.weight", np.zeros((4096, 256), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    t = time.perf_counter()
    with pytest.raises(architectures.UnsupportedModel, match=r"gemma3-tiny.gguf: architecture 'gemma3' is not"):
        loading.load_int8(path)
    assert time.perf_counter() - t < 1.0
    assert architectures.gguf_header(path, ("gemma3.block_count", "general.architecture")) == \
        {"gemma3.block_count": 2, "general.architecture": "gemma3"}


def test_it_refuses_a_sliding_window_that_binds(tmp_path):
    cfg = MistralConfig(**SIZE, sliding_window=128)
    with pytest.raises(architectures.UnsupportedModel, match="128-token sliding window"):
        architectures.check_config(cfg, max_seq=2048)
    architectures.check_config(cfg, max_seq=128)


def test_it_prints_perplexity_as_one_json_line(tmp_path, private_cache, monkeypatch, capsys):
    import json

    from inference.__main__ import main

    ref = tiny_model("qwen2", tmp_path / "qwen2")
    (tmp_path / "text.txt").write_text(TEXT)
    monkeypatch.setenv("LLM_MODEL", "unset-by-the-test")  # main() sets it from --model; restored after
    assert main(["ppl", "--model", str(tmp_path / "qwen2"), "--text-file", str(tmp_path / "text.txt")]) == 0
    out = json.loads(capsys.readouterr().out)
    ids = torch.tensor(byte_tokenizer()(TEXT).input_ids)
    with torch.inference_mode():
        want = perplexity(ref(ids[None]).logits[0], ids)
    assert out["tokens"] == len(ids) and abs(out["ppl"] / want - 1) < 0.01
