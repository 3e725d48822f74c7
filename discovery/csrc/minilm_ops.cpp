// The encoder's fast path on AVX-512 CPUs (discovery/minilm.py): Int8 Linear layers with
// vector-wise activation scales, and attention for heads of size 32.
//
// int8_linear: LLM.int8()'s vector-wise quantization (Dettmers et al. 2022) without its outlier
// part: each row (token) of the input gets its own scale, absmax / 127, and each output channel
// of the weight its own. Per-tensor dynamic quantization (PyTorch's quantize_dynamic) gives every
// token of a batch the scale of the batch's largest activation: its vectors came out at cosine
// 0.993 to fp32, and a text's vector changed with the texts batched beside it. Per row: 0.997,
// and a text's vector depends on that text alone. The int8 GEMM is oneDNN's (at::_int_mm, VNNI
// where the CPU has it); the quantize and dequantize passes around it are fused loops here.
//
// attention, bidirectional, head size 32. Why a kernel of our own: with 32-wide heads,
// PyTorch's fused CPU attention ran at a fraction of the Int8 GEMMs' speed and cost about as
// much as all of MiniLM's Linear layers together (6-7 ms per layer for 8 abstracts of 256
// tokens). Per (sequence, head) this kernel:
//  - copies K transposed into a small buffer, so 16 scores come from 32 FMAs on contiguous loads,
//    four query rows at a time sharing each load;
//  - runs softmax with a polynomial exp (Cephes expf, ~1 ulp) on 16 lanes;
//  - accumulates P.V with the head's 32 values as two registers per query row.
// Keys past a sequence's length are never read (padding is at the end); query rows past it are
// written as zeros. Everything is float32: results match PyTorch's attention to ~1e-5.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {

constexpr int kHead = 32;  // head size: two 16-float registers
constexpr int kRows = 4;   // query rows per pass over K

inline __m512 exp_ps(__m512 x) {
  // exp(x) = 2^n * exp(r), x = n ln2 + r, |r| <= ln2 / 2 (Cephes expf)
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// exact GELU, x * Phi(x), with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)
inline __m512 gelu_ps(__m512 x) {
  const __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678118654752f));
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(z, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  p = _mm512_mul_ps(p, t);
  const __m512 erf_abs = _mm512_fnmadd_ps(p, exp_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z)),
                                          _mm512_set1_ps(1.0f));
  // erf is odd: Phi(x) = (1 + sign(x) erf(|x| / sqrt 2)) / 2
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 erf = _mm512_mask_sub_ps(erf_abs, neg, _mm512_setzero_ps(), erf_abs);
  return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), _mm512_add_ps(erf, _mm512_set1_ps(1.0f)));
}

inline __mmask16 tail_mask(int remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}

// softmax of scores[0, n) in place (entries past n are left as they are); returns 1 / sum
inline float softmax_row(float* s, int n) {
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int j = 0; j < n; j += 16) {
    vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(vmax, tail_mask(n - j), s + j));
  }
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  __m512 vsum = _mm512_setzero_ps();
  for (int j = 0; j < n; j += 16) {
    const __mmask16 k = tail_mask(n - j);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m));
    _mm512_mask_storeu_ps(s + j, k, e);
    vsum = _mm512_mask_add_ps(vsum, k, vsum, e);
  }
  return 1.0f / _mm512_reduce_add_ps(vsum);
}

// one (sequence, head): q, k, v rows are `stride` floats apart; out rows `out_stride` apart
void attend_head(const float* q, const float* k, const float* v, int64_t stride, int n, int length,
                 float scale, float* out, int64_t out_stride, std::vector<float>& kt,
                 std::vector<float>& scores) {
  const int padded = (n + 31) / 32 * 32;  // two 16-key blocks per step: 8 independent sums
  kt.assign(static_cast<size_t>(kHead) * padded, 0.0f);
  for (int j = 0; j < n; ++j)
    for (int d = 0; d < kHead; ++d) kt[d * padded + j] = k[j * stride + d];
  scores.resize(static_cast<size_t>(kRows) * padded);

  for (int i0 = 0; i0 < n; i0 += kRows) {
    const int rows = std::min(kRows, n - i0);
    float qs[kRows][kHead];
    for (int r = 0; r < kRows; ++r)
      for (int d = 0; d < kHead; ++d) qs[r][d] = r < rows ? q[(i0 + r) * stride + d] * scale : 0.0f;
    for (int j = 0; j < padded; j += 32) {
      __m512 acc[kRows][2];
      for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
      for (int d = 0; d < kHead; ++d) {
        const __m512 k0 = _mm512_loadu_ps(kt.data() + d * padded + j);
        const __m512 k1 = _mm512_loadu_ps(kt.data() + d * padded + j + 16);
        for (int r = 0; r < kRows; ++r) {
          const __m512 qd = _mm512_set1_ps(qs[r][d]);
          acc[r][0] = _mm512_fmadd_ps(qd, k0, acc[r][0]);
          acc[r][1] = _mm512_fmadd_ps(qd, k1, acc[r][1]);
        }
      }
      for (int r = 0; r < kRows; ++r) {
        _mm512_storeu_ps(scores.data() + r * padded + j, acc[r][0]);
        _mm512_storeu_ps(scores.data() + r * padded + j + 16, acc[r][1]);
      }
    }
    float inv[kRows];
    for (int r = 0; r < rows; ++r) inv[r] = softmax_row(scores.data() + r * padded, n);
    __m512 o[kRows][2];
    for (int r = 0; r < kRows; ++r) o[r][0] = o[r][1] = _mm512_setzero_ps();
    for (int j = 0; j < n; ++j) {
      const __m512 v0 = _mm512_loadu_ps(v + j * stride), v1 = _mm512_loadu_ps(v + j * stride + 16);
      for (int r = 0; r < kRows; ++r) {
        const __m512 p = _mm512_set1_ps(scores[r * padded + j]);
        o[r][0] = _mm512_fmadd_ps(p, v0, o[r][0]);
        o[r][1] = _mm512_fmadd_ps(p, v1, o[r][1]);
      }
    }
    for (int r = 0; r < rows; ++r) {
      float* dst = out + (i0 + r) * out_stride;
      _mm512_storeu_ps(dst, _mm512_mul_ps(o[r][0], _mm512_set1_ps(inv[r])));
      _mm512_storeu_ps(dst + 16, _mm512_mul_ps(o[r][1], _mm512_set1_ps(inv[r])));
    }
  }
  for (int i = n; i < length; ++i) std::fill_n(out + i * out_stride, kHead, 0.0f);
}

}  // namespace

// qkv: (B, L, 3 * H * 32) float32, the fused Q | K | V projection; lengths: (B,) int64, the
// number of real tokens of each sequence (padding at the end). Returns (B, L, H * 32).
torch::Tensor attention(torch::Tensor qkv, torch::Tensor lengths, int64_t heads) {
  TORCH_CHECK(qkv.dim() == 3 && qkv.scalar_type() == torch::kFloat && qkv.is_contiguous(),
              "qkv must be a contiguous float32 (B, L, 3 * H * 32) tensor");
  const int64_t batch = qkv.size(0), length = qkv.size(1), width = heads * kHead;
  TORCH_CHECK(qkv.size(2) == 3 * width, "qkv's last dimension must be 3 * heads * ", kHead);
  auto lens = lengths.to(torch::kLong).contiguous();
  TORCH_CHECK(lens.numel() == batch, "one length per sequence");
  auto out = torch::empty({batch, length, width}, qkv.options());
  const float* src = qkv.data_ptr<float>();
  const int64_t* len = lens.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHead));
  at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> kt, scores;
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t b = unit / heads, h = unit % heads;
      const int n = static_cast<int>(std::clamp<int64_t>(len[b], 0, length));
      const float* row = src + b * length * 3 * width + h * kHead;
      attend_head(row, row + width, row + 2 * width, 3 * width, n, static_cast<int>(length), scale,
                  dst + b * length * width + h * kHead, width, kt, scores);
    }
  });
  return out;
}

// x: (T, K) float32; wq: (K, N) int8, the transposed per-channel-quantized weight; w_scale,
// bias: (N,) float32. Returns y = x W^T + bias, (T, N) float32, finished in the dequantizing
// pass (one write of the output instead of two or three more passes over it):
//  - gelu: exact GELU(y), for the feed-forward up-projection;
//  - residual, gamma, beta given: LayerNorm(residual + y) * gamma + beta, for the projections
//    that close a BERT sub-layer.
torch::Tensor int8_linear(torch::Tensor x, torch::Tensor wq, torch::Tensor w_scale, torch::Tensor bias,
                          bool gelu, c10::optional<torch::Tensor> residual, c10::optional<torch::Tensor> gamma,
                          c10::optional<torch::Tensor> beta, double eps) {
  TORCH_CHECK(x.dim() == 2 && x.scalar_type() == torch::kFloat, "x must be (T, K) float32");
  TORCH_CHECK(wq.scalar_type() == torch::kChar && wq.size(0) == x.size(1), "wq must be (K, N) int8");
  x = x.contiguous();
  const int64_t rows = x.size(0), k = x.size(1), n = wq.size(1);
  TORCH_CHECK(k % 16 == 0 && n % 16 == 0, "K and N must be multiples of 16");
  auto xq = torch::empty({rows, k}, x.options().dtype(torch::kChar));
  auto x_scale = torch::empty({rows}, x.options());
  const float* src = x.data_ptr<float>();
  int8_t* q = xq.data_ptr<int8_t>();
  float* xs = x_scale.data_ptr<float>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* row = src + t * k;
      __m512 vmax = _mm512_setzero_ps();
      for (int64_t j = 0; j < k; j += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(row + j)));
      const float amax = _mm512_reduce_max_ps(vmax);
      xs[t] = amax > 0.0f ? amax / 127.0f : 1.0f;
      const __m512 inv = _mm512_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
      for (int64_t j = 0; j < k; j += 16) {  // round to nearest even, |values| <= 127
        const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(row + j), inv));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + t * k + j), _mm512_cvtsepi32_epi8(v));
      }
    }
  });
  auto acc = at::_int_mm(xq, wq);  // (T, N) int32, exact
  auto out = torch::empty({rows, n}, x.options());
  const bool norm = residual.has_value();
  TORCH_CHECK(!norm || (gamma.has_value() && beta.has_value()), "LayerNorm needs gamma and beta");
  auto ws_t = w_scale.contiguous(), bs_t = bias.contiguous();
  auto res_t = norm ? residual->contiguous().view({rows, n}) : torch::Tensor();
  auto g_t = norm ? gamma->contiguous() : torch::Tensor(), b_t = norm ? beta->contiguous() : torch::Tensor();
  const int32_t* a = acc.data_ptr<int32_t>();
  const float* ws = ws_t.data_ptr<float>();
  const float* bs = bs_t.data_ptr<float>();
  const float* res = norm ? res_t.data_ptr<float>() : nullptr;
  const float* g = norm ? g_t.data_ptr<float>() : nullptr;
  const float* be = norm ? b_t.data_ptr<float>() : nullptr;
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const __m512 s = _mm512_set1_ps(xs[t]);
      float* y_row = dst + t * n;
      __m512 sum = _mm512_setzero_ps();
      for (int64_t j = 0; j < n; j += 16) {
        const __m512 v = _mm512_cvtepi32_ps(_mm512_loadu_si512(a + t * n + j));
        __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(v, s), _mm512_loadu_ps(ws + j), _mm512_loadu_ps(bs + j));
        if (norm) {
          y = _mm512_add_ps(y, _mm512_loadu_ps(res + t * n + j));
          sum = _mm512_add_ps(sum, y);
        }
        _mm512_storeu_ps(y_row + j, gelu ? gelu_ps(y) : y);
      }
      if (!norm) continue;
      // LayerNorm over the row, two passes over it while it is in L1 (as F.layer_norm: biased variance)
      const __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / static_cast<float>(n));
      __m512 sq = _mm512_setzero_ps();
      for (int64_t j = 0; j < n; j += 16) {
        const __m512 c = _mm512_sub_ps(_mm512_loadu_ps(y_row + j), mean);
        sq = _mm512_fmadd_ps(c, c, sq);
      }
      const float var = _mm512_reduce_add_ps(sq) / static_cast<float>(n);
      const __m512 inv = _mm512_set1_ps(1.0f / std::sqrt(var + static_cast<float>(eps)));
      for (int64_t j = 0; j < n; j += 16) {
        const __m512 c = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(y_row + j), mean), inv);
        _mm512_storeu_ps(y_row + j, _mm512_fmadd_ps(c, _mm512_loadu_ps(g + j), _mm512_loadu_ps(be + j)));
      }
    }
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("int8_linear", &int8_linear, "x W^T + b with per-row int8 activations and per-channel int8 weights, then GELU "
        "or residual + LayerNorm", py::arg("x"), py::arg("wq"), py::arg("w_scale"), py::arg("bias"),
        py::arg("gelu") = false, py::arg("residual") = py::none(), py::arg("gamma") = py::none(),
        py::arg("beta") = py::none(), py::arg("eps") = 1e-12);
  m.def("attention", &attention, "bidirectional attention over a fused QKV tensor, head size 32");
}
