// LLM.int8() CPU kernels (Dettmers et al., 2022, arXiv:2208.07339) for AVX-512 VNNI, with an
// AVX2 + FMA + F16C build of the same code for CPUs without AVX-512 (AMD Zen 2/3, older Intel).
//
// int8_linear: vector-wise quantization (one scale per activation row and per weight row) plus
// mixed-precision decomposition: activation columns that hold outliers (|x| > threshold, plus
// the columns found in calibration) are multiplied in fp32, the rest in int8 with int32
// accumulation. Small M (decode) uses a VNNI GEMV written here; large M (prefill) uses
// at::_int_mm (oneDNN) on VNNI, and on AVX2 an fp32 GEMM of the int8 values (exact: every
// product and partial sum is an integer below 2^24), since oneDNN's AVX2 s8s8 path measured
// 30x slower than sgemm there. Fusing quantize + matmul + dequantize + outliers + residual in one
// call matters as much as the matmul itself: at batch 1 a token is ~30 layers of tiny ops.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>
#include <cmath>
#include <algorithm>
#include <vector>

namespace {

// Decode-sized work (one token) is split across torch's threads only when asked: it is memory-bound
// at one thread, and an OpenMP barrier per op (~150 per token) collapses throughput when another
// process holds a core (measured 87 -> <5 tok/s at 2 threads on a loaded 2-core machine).
bool g_parallel_decode = false;

inline int64_t decode_grain(int64_t grain, int64_t range) {
  return g_parallel_decode ? grain : std::max<int64_t>(range, 1);
}

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
constexpr bool kVnni = true;
constexpr int32_t kShift = 128;  // vpdpbusd wants unsigned x signed: x is stored as xq + 128

// dot(xu8, w) over k bytes, xu8 = xq + 128.
inline void dot4(const uint8_t* x, const int8_t* w0, const int8_t* w1, const int8_t* w2,
                 const int8_t* w3, int64_t K, int32_t* out) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  int64_t k = 0;
  for (; k + 64 <= K; k += 64) {
    __m512i xv = _mm512_loadu_si512(x + k);
    a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_loadu_si512(w0 + k));
    a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_loadu_si512(w1 + k));
    a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_loadu_si512(w2 + k));
    a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_loadu_si512(w3 + k));
  }
  if (k < K) {
    __mmask64 m = (~0ULL) >> (64 - (K - k));
    __m512i xv = _mm512_maskz_loadu_epi8(m, x + k);
    a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_maskz_loadu_epi8(m, w0 + k));
    a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_maskz_loadu_epi8(m, w1 + k));
    a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_maskz_loadu_epi8(m, w2 + k));
    a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_maskz_loadu_epi8(m, w3 + k));
  }
  out[0] = _mm512_reduce_add_epi32(a0);
  out[1] = _mm512_reduce_add_epi32(a1);
  out[2] = _mm512_reduce_add_epi32(a2);
  out[3] = _mm512_reduce_add_epi32(a3);
}

// dot(xu8 row r, w_j) for R activation rows (stride K) and 4 weight rows: each weight vector
// is loaded once per 64 bytes for all R rows (a speculative block verifies R tokens at once), so
// the block costs the weight traffic of one token plus R times the VNNI arithmetic.
template <int R>
inline void dot4_rows(const uint8_t* x, const int8_t* w0, const int8_t* w1, const int8_t* w2,
                      const int8_t* w3, int64_t K, int32_t* out) {
  __m512i acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + 64 <= K; k += 64) {
    const __m512i v0 = _mm512_loadu_si512(w0 + k), v1 = _mm512_loadu_si512(w1 + k);
    const __m512i v2 = _mm512_loadu_si512(w2 + k), v3 = _mm512_loadu_si512(w3 + k);
    for (int r = 0; r < R; ++r) {
      const __m512i xv = _mm512_loadu_si512(x + r * K + k);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], xv, v0);
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], xv, v1);
      acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], xv, v2);
      acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], xv, v3);
    }
  }
  if (k < K) {
    const __mmask64 m = (~0ULL) >> (64 - (K - k));
    const __m512i v0 = _mm512_maskz_loadu_epi8(m, w0 + k), v1 = _mm512_maskz_loadu_epi8(m, w1 + k);
    const __m512i v2 = _mm512_maskz_loadu_epi8(m, w2 + k), v3 = _mm512_maskz_loadu_epi8(m, w3 + k);
    for (int r = 0; r < R; ++r) {
      const __m512i xv = _mm512_maskz_loadu_epi8(m, x + r * K + k);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], xv, v0);
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], xv, v1);
      acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], xv, v2);
      acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], xv, v3);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) out[r * 4 + j] = _mm512_reduce_add_epi32(acc[r][j]);
}

constexpr int64_t kF = 16;  // fp32 lanes
using vecf = __m512;
inline vecf loadf(const float* p) { return _mm512_loadu_ps(p); }
inline void storef(float* p, vecf v) { _mm512_storeu_ps(p, v); }
inline vecf setf(float x) { return _mm512_set1_ps(x); }
inline vecf zerof() { return _mm512_setzero_ps(); }
inline vecf fmaf_(vecf a, vecf b, vecf c) { return _mm512_fmadd_ps(a, b, c); }
inline vecf load_half(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline float sumf(vecf v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
constexpr bool kVnni = false;
constexpr int32_t kShift = 0;  // x stays signed

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// dot(xq, w) over k bytes, both signed. vpmaddubsw multiplies unsigned by signed into int16
// pairs, so it gets |x| and w carrying x's sign; both are within +-127 (the quantizers clamp
// there), so a pair sum is at most 2 * 127 * 127 < 2^15 and never saturates.
inline void dot4(const uint8_t* xbytes, const int8_t* w0, const int8_t* w1, const int8_t* w2,
                 const int8_t* w3, int64_t K, int32_t* out) {
  const int8_t* x = reinterpret_cast<const int8_t*>(xbytes);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  int64_t k = 0;
  auto step = [&](__m256i ax, __m256i xv, const int8_t* w) {
    __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv)), ones);
  };
  for (; k + 32 <= K; k += 32) {
    __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k));
    __m256i ax = _mm256_abs_epi8(xv);
    a0 = _mm256_add_epi32(a0, step(ax, xv, w0 + k));
    a1 = _mm256_add_epi32(a1, step(ax, xv, w1 + k));
    a2 = _mm256_add_epi32(a2, step(ax, xv, w2 + k));
    a3 = _mm256_add_epi32(a3, step(ax, xv, w3 + k));
  }
  out[0] = hsum_epi32(a0);
  out[1] = hsum_epi32(a1);
  out[2] = hsum_epi32(a2);
  out[3] = hsum_epi32(a3);
  for (; k < K; ++k) {
    out[0] += x[k] * w0[k];
    out[1] += x[k] * w1[k];
    out[2] += x[k] * w2[k];
    out[3] += x[k] * w3[k];
  }
}

// The AVX2 build has 16 vector registers: rows one at a time (the weights come from L1 after the first).
template <int R>
inline void dot4_rows(const uint8_t* x, const int8_t* w0, const int8_t* w1, const int8_t* w2,
                      const int8_t* w3, int64_t K, int32_t* out) {
  for (int r = 0; r < R; ++r) dot4(x + r * K, w0, w1, w2, w3, K, out + r * 4);
}

constexpr int64_t kF = 8;
using vecf = __m256;
inline vecf loadf(const float* p) { return _mm256_loadu_ps(p); }
inline void storef(float* p, vecf v) { _mm256_storeu_ps(p, v); }
inline vecf setf(float x) { return _mm256_set1_ps(x); }
inline vecf zerof() { return _mm256_setzero_ps(); }
inline vecf fmaf_(vecf a, vecf b, vecf c) { return _mm256_fmadd_ps(a, b, c); }
inline vecf load_half(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline float sumf(vecf v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#else
#error "int8_ops needs AVX-512 VNNI or AVX2 + FMA + F16C (kernels.py checks before building)"
#endif

struct RowQuant {
  float scale;                 // activation row scale: absmax(inlier columns) / 127
  std::vector<int64_t> extra;  // run-time outlier columns not in the calibrated set
};

// Quantize one activation row; outlier columns become 0 in the int8 part.
RowQuant quantize_row(const float* h, int64_t K, const uint8_t* is_static, float threshold,
                      int8_t* q) {
  RowQuant r;
  float amax = 0.f;
  for (int64_t k = 0; k < K; ++k) {
    float a = std::fabs(h[k]);
    if (is_static[k]) continue;
    if (a > threshold) { r.extra.push_back(k); continue; }
    amax = a > amax ? a : amax;
  }
  r.scale = amax > 0.f ? amax / 127.f : 1.f;
  const float inv = 1.f / r.scale;
  for (int64_t k = 0; k < K; ++k) {
    const bool outlier = is_static[k] || std::fabs(h[k]) > threshold;
    q[k] = outlier ? 0 : static_cast<int8_t>(std::nearbyint(h[k] * inv));
  }
  return r;
}

}  // namespace

// x: [M, K] (or [M, 2K] with silu_mul: h = silu(x[:, :K]) * x[:, K:], the SwiGLU gate).
// wq: [N, K] int8, wscale: [N], wsum: [N] int32 (row sums, to undo the +128 shift),
// outl_idx: [P] calibrated outlier columns, w_outl: [P, N] their fp16 weights.
// norm_w: RMSNorm (Zhang & Sennrich, 2019) weight applied to x first, the Llama pre-norm.
torch::Tensor int8_linear(torch::Tensor x, torch::Tensor wq, torch::Tensor wscale,
                          torch::Tensor wsum, torch::Tensor outl_idx, torch::Tensor w_outl,
                          double threshold, bool silu_mul, c10::optional<torch::Tensor> residual,
                          c10::optional<torch::Tensor> norm_w, double eps) {
  x = x.contiguous();
  const int64_t N = wq.size(0), K = wq.size(1);
  const int64_t M = x.numel() / (silu_mul ? 2 * K : K);
  const float thr = static_cast<float>(threshold);
  torch::Tensor h = x.view({M, silu_mul ? 2 * K : K});
  if (norm_w.has_value()) {
    torch::Tensor g = torch::empty({M, K}, x.options());
    const float* xp = h.data_ptr<float>();
    const float* nw = norm_w->data_ptr<float>();
    float* gp = g.data_ptr<float>();
    for (int64_t m = 0; m < M; ++m) {
      float ss = 0.f;
      for (int64_t k = 0; k < K; ++k) ss += xp[m * K + k] * xp[m * K + k];
      const float r = 1.f / std::sqrt(ss / K + static_cast<float>(eps));
      for (int64_t k = 0; k < K; ++k) gp[m * K + k] = xp[m * K + k] * r * nw[k];
    }
    h = g;
  }
  if (silu_mul) {
    torch::Tensor g = torch::empty({M, K}, x.options());
    const float* xp = h.data_ptr<float>();
    float* gp = g.data_ptr<float>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) {
        float a = xp[m * 2 * K + k];
        gp[m * K + k] = a / (1.f + std::exp(-a)) * xp[m * 2 * K + K + k];
      }
    h = g;
  }
  const int64_t P = outl_idx.numel();
  std::vector<uint8_t> is_static(K, 0);
  const int64_t* idx = outl_idx.data_ptr<int64_t>();
  for (int64_t p = 0; p < P; ++p) is_static[idx[p]] = 1;

  torch::Tensor xq = torch::empty({M, K}, x.options().dtype(torch::kInt8));
  std::vector<RowQuant> rq(M);
  const float* hp = h.data_ptr<float>();
  int8_t* xqp = xq.data_ptr<int8_t>();
  for (int64_t m = 0; m < M; ++m) rq[m] = quantize_row(hp + m * K, K, is_static.data(), thr, xqp + m * K);

  torch::Tensor y = torch::empty({M, N}, x.options());
  float* yp = y.data_ptr<float>();
  const int8_t* wp = wq.data_ptr<int8_t>();
  const float* ws = wscale.data_ptr<float>();
  const int32_t* wsm = wsum.data_ptr<int32_t>();
  if (M >= 16) {
    // Prompt blocks: int8 GEMM, then the outlier columns as two small fp32 GEMMs.
    torch::Tensor acc = kVnni ? at::_int_mm(xq, wq.t()).to(torch::kFloat)
                              : at::mm(xq.to(torch::kFloat), wq.to(torch::kFloat).t());
    const float* ap = acc.data_ptr<float>();
    at::parallel_for(0, M, 16, [&](int64_t b, int64_t e) {
      for (int64_t m = b; m < e; ++m)
        for (int64_t n = 0; n < N; ++n) yp[m * N + n] = ap[m * N + n] * rq[m].scale * ws[n];
    });
    if (P > 0) y.addmm_(h.index_select(1, outl_idx), w_outl.to(torch::kFloat));
    std::vector<int64_t> cols;
    for (int64_t m = 0; m < M; ++m) cols.insert(cols.end(), rq[m].extra.begin(), rq[m].extra.end());
    std::sort(cols.begin(), cols.end());
    cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
    if (!cols.empty()) {
      torch::Tensor ci = torch::tensor(cols, torch::kLong);
      torch::Tensor xd = torch::zeros({M, (int64_t)cols.size()}, x.options());
      float* xdp = xd.data_ptr<float>();
      for (int64_t m = 0; m < M; ++m)
        for (int64_t k : rq[m].extra)
          xdp[m * cols.size() + (std::lower_bound(cols.begin(), cols.end(), k) - cols.begin())] = hp[m * K + k];
      y.addmm_(xd, (wq.index_select(1, ci).to(torch::kFloat) * wscale.unsqueeze(1)).t());
    }
  } else {
    // Decode: GEMV, 4 weight rows at a time. Run-time outlier columns are added while the
    // row is in L1 (a column gather afterwards would miss cache once per row: 49k misses on the head).
    std::vector<uint8_t> xu(M * K);
    for (int64_t i = 0; i < M * K; ++i) xu[i] = static_cast<uint8_t>(xqp[i] + kShift);
    auto row_extra = [&](int64_t m, int64_t n) {
      float t = 0.f;
      for (int64_t k : rq[m].extra) t += hp[m * K + k] * wp[n * K + k];
      return t;
    };
    const int64_t blocks = N / 4;
    at::parallel_for(0, blocks, decode_grain(16, blocks), [&](int64_t b, int64_t e) {
      int32_t d[16];
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t n = blk * 4;
        const int8_t *w0 = wp + n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        for (int64_t m = 0; m < M;) {  // up to 4 activation rows per pass over the 4 weight rows
          const int64_t r = std::min<int64_t>(4, M - m);
          const uint8_t* xm = xu.data() + m * K;
          switch (r) {
            case 4: dot4_rows<4>(xm, w0, w1, w2, w3, K, d); break;
            case 3: dot4_rows<3>(xm, w0, w1, w2, w3, K, d); break;
            case 2: dot4_rows<2>(xm, w0, w1, w2, w3, K, d); break;
            default: dot4(xm, w0, w1, w2, w3, K, d);
          }
          for (int64_t i = 0; i < r; ++i, ++m)
            for (int j = 0; j < 4; ++j)
              yp[m * N + n + j] =
                  ((d[i * 4 + j] - kShift * wsm[n + j]) * rq[m].scale + row_extra(m, n + j)) * ws[n + j];
        }
      }
    });
    for (int64_t n = blocks * 4; n < N; ++n)  // N not a multiple of 4
      for (int64_t m = 0; m < M; ++m) {
        int32_t s = 0;
        for (int64_t k = 0; k < K; ++k) s += static_cast<int32_t>(xqp[m * K + k]) * wp[n * K + k];
        yp[m * N + n] = (s * rq[m].scale + row_extra(m, n)) * ws[n];
      }
    // Calibrated outlier columns: y += x[:, idx] @ W_outl, W_outl as [P, N] fp16 (the paper's
    // precision for the outlier part), streamed row by row with vector-wide fp16 -> fp32 conversion.
    // Blocked over 256 outputs so that each fp16 weight is read once for all M rows (the block of
    // M rows of y stays in L1); each y element still sums over p in order, as with M = 1.
    const at::Half* wo = w_outl.data_ptr<at::Half>();
    constexpr int64_t kChunks = 16;
    at::parallel_for(0, N / kF, decode_grain(64, N / kF), [&](int64_t b, int64_t e) {
      for (int64_t cb = b; cb < e; cb += kChunks) {
        const int64_t ce = std::min(e, cb + kChunks);
        for (int64_t p = 0; p < P; ++p) {
          const uint16_t* row = reinterpret_cast<const uint16_t*>(wo + p * N);
          for (int64_t c = cb; c < ce; ++c) {
            const vecf w = load_half(row + c * kF);
            for (int64_t m = 0; m < M; ++m) {
              float* ym = yp + m * N + c * kF;
              storef(ym, fmaf_(setf(hp[m * K + idx[p]]), w, loadf(ym)));
            }
          }
        }
      }
    });
    for (int64_t n = (N / kF) * kF; n < N; ++n)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t p = 0; p < P; ++p) yp[m * N + n] += hp[m * K + idx[p]] * static_cast<float>(wo[p * N + n]);
  }
  if (residual.has_value()) y.add_(residual->view({M, N}));
  return y;
}

// Rotary embedding (rotate-half convention of HF Llama) on q and k of a fused qkv row, and
// append k, v at positions pos..pos+M-1 of the static cache. Returns q as [1, H, M, D].
torch::Tensor rope_kv(torch::Tensor qkv, torch::Tensor cos, torch::Tensor sin,
                      torch::Tensor k_cache, torch::Tensor v_cache, int64_t pos, int64_t H) {
  qkv = qkv.contiguous();
  const int64_t KV = k_cache.size(0), T = k_cache.size(1), D = k_cache.size(2), half = D / 2;
  const int64_t W = (H + 2 * KV) * D, M = qkv.numel() / W;
  TORCH_CHECK(pos + M <= T, "KV cache full: ", pos + M, " > ", T);
  torch::Tensor q = torch::empty({1, H, M, D}, qkv.options());
  const float* src = qkv.data_ptr<float>();
  const float* c = cos.data_ptr<float>();
  const float* s = sin.data_ptr<float>();
  float* qp = q.data_ptr<float>();
  float* kp = k_cache.data_ptr<float>();
  float* vp = v_cache.data_ptr<float>();
  auto rot = [&](const float* in, float* out, int64_t p) {
    for (int64_t i = 0; i < half; ++i) {
      float a = in[i], b = in[i + half], cc = c[p * half + i], ss = s[p * half + i];
      out[i] = a * cc - b * ss;
      out[i + half] = b * cc + a * ss;
    }
  };
  at::parallel_for(0, M, 64, [&](int64_t b, int64_t e) {
    for (int64_t m = b; m < e; ++m) {
      const float* row = src + m * W;
      const int64_t p = pos + m;
      for (int64_t hh = 0; hh < H; ++hh) rot(row + hh * D, qp + (hh * M + m) * D, p);
      for (int64_t g = 0; g < KV; ++g) {
        rot(row + (H + g) * D, kp + (g * T + p) * D, p);
        std::memcpy(vp + (g * T + p) * D, row + (H + KV + g) * D, D * sizeof(float));
      }
    }
  });
  return q;
}

// Decode attention: one query row per head [1, H, 1, D] (D a multiple of 16) against cache rows 0..T-1, grouped-query
// (head h reads kv head h / (H / KV)). Returns [1, H * D]. Longer query blocks use SDPA.
torch::Tensor attend_one(torch::Tensor q, torch::Tensor k_cache, torch::Tensor v_cache, int64_t T) {
  const int64_t H = q.size(1), KV = k_cache.size(0), TM = k_cache.size(1), D = k_cache.size(2);
  torch::Tensor out = torch::zeros({1, H * D}, q.options());
  const float* qp = q.data_ptr<float>();
  const float* kp = k_cache.data_ptr<float>();
  const float* vp = v_cache.data_ptr<float>();
  float* op = out.data_ptr<float>();
  TORCH_CHECK(D % 16 == 0, "attend_one needs head_dim % 16 == 0");
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  at::parallel_for(0, H, decode_grain(T < 512 ? H : 1, H), [&](int64_t b, int64_t e) {
    std::vector<float> p(T);
    for (int64_t h = b; h < e; ++h) {
      const float* qh = qp + h * D;
      const float* kb = kp + (h / (H / KV)) * TM * D;
      const float* vb = vp + (h / (H / KV)) * TM * D;
      float mx = -INFINITY;
      for (int64_t t = 0; t < T; ++t) {
        vecf acc = zerof();
        for (int64_t i = 0; i < D; i += kF) acc = fmaf_(loadf(qh + i), loadf(kb + t * D + i), acc);
        p[t] = sumf(acc) * scale;
        mx = p[t] > mx ? p[t] : mx;
      }
      float z = 0.f;
      for (int64_t t = 0; t < T; ++t) z += (p[t] = std::exp(p[t] - mx));
      float* o = op + h * D;
      for (int64_t t = 0; t < T; ++t) {
        const vecf w = setf(p[t] / z);
        for (int64_t i = 0; i < D; i += kF) storef(o + i, fmaf_(w, loadf(vb + t * D + i), loadf(o + i)));
      }
    }
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("int8_linear", &int8_linear, "LLM.int8() linear with outlier decomposition");
  m.def("rope_kv", &rope_kv, "rotary embedding + static KV cache append");
  m.def("attend_one", &attend_one, "single-token grouped-query attention over the KV cache");
  m.def("set_parallel_decode", [](bool on) { g_parallel_decode = on; }, "split decode ops across threads");
}
