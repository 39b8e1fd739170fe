// Fused kernels of one Mamba direction for CPUs, channels-last: the causal depthwise conv + SiLU, and
// the whole S6 step (softplus, recurrence, D skip, SiLU gate) in one pass.
//
// Glossary (mdtf_lite): S sequences (batch x frames or batch x joints), L length, D channels
// (d_inner), N state size.  Every (S, L, *) tensor may be a strided view, but its last dimension
// must be contiguous (the model hands in slices of x_proj's output without copying them).
//
//   dt[t, d]   = softplus(delta[t, d] + bias[d])                    (S, L, D)
//   a[t, n, d] = exp(dt[t, d] * A[d, n])
//   h[t, n, d] = a[t, n, d] * h[t-1, n, d] + dt[t, d] * u[t, d] * B[t, n]      h[-1] = 0
//   p[t, d]    = sum_n C[t, n] * h[t, n, d] + Dskip[d] * u[t, d]
//   y[t, d]    = p[t, d] * silu(z[t, d])
//
// The channel axis d is innermost, so every loop over d runs over contiguous memory and the
// compiler turns it into SIMD code (exp included: fast_exp below is branch-free arithmetic).
// Sequences are independent: at::parallel_for spreads them over torch's intra-op threads, so
// torch.set_num_threads controls this kernel like every other op.
//
// Deterministic at any thread count: the gradients summed over sequences (dA, dD, ddelta_bias; the
// conv's dw, db) are accumulated per fixed chunk of kChunk sequences into that chunk's own partial
// buffer, and the partials are added in chunk order at the end.  The chunks do not depend on the
// number of threads, so 1 or 8 threads, and repeated calls, give bit-identical gradients.
//
// The backward recomputes a and h of one sequence into a per-thread buffer (2 L N D floats),
// then runs the reverse recurrence
//   g[t, n, d] = C[t, n] * gp[t, d] + a[t+1, n, d] * g[t+1, n, d]
// and accumulates every gradient on the way; nothing of size S L N D is ever stored.  (Keeping the
// forward's exp(dt A) for the backward instead was measured: no faster, the extra memory traffic costs
// what the saved exp wins.)
//
// On x86 with AVX2 + FMA and a compiled width D (a multiple of 8), the state loops run on explicit 8-wide
// vectors with the channel blocks outside and the N states inside (state_steps8*): the values of a block
// (dt, dt u, the output sum; in the backward gp and the sums sB, ddt) stay in registers for all N states,
// where the plain loops reload and store them once per state.  Measured at the model's shapes (one
// thread): forward + backward 3.3 -> 2.6-2.9 ns per (sequence, step, channel, state) element; a training
// step of the cpu preset (batch 8, T 27) ~6 % faster.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#if defined(__SSE__) || defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <vector>

namespace {

// Flush-to-zero / denormals-are-zero on this thread while a kernel body runs.  A state multiplied by
// exp(dt A) ~ 1e-38 becomes subnormal, and every operation on a subnormal costs ~100 cycles on x86:
// measured, a training step of MDTF ran 1.6x slower with them.  Values below 1.2e-38 become 0.
struct FlushDenormals {
#if defined(__SSE__) || defined(__x86_64__)
  unsigned int saved;
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

// exp(x) for float, accurate to about 2 ulp on [-87, 88] (Cephes' expf: Cody-Waite reduction by
// ln 2, degree-5 polynomial), written without branches or calls so that loops over it vectorise.
// Inputs below -87 (and -inf) return exp(-87) ~ 1.6e-38 (the recurrence multiplies a state by it: zero
// for every practical purpose); above 88 (and +inf) return exp(88); NaN returns NaN.  Every step is
// defined behaviour: the exponent n is made finite before it is converted to an integer (NaN -> 0; the
// NaN travels through the polynomial instead), and 2^n is built with an unsigned shift.
static inline float fast_exp(float x) {
  const bool nan = x != x;
  x = x < -87.0f ? -87.0f : x;            // comparisons, not fmin/fmax: they vectorise and keep NaN
  x = x > 88.0f ? 88.0f : x;
  float n = std::nearbyint(x * 1.44269504088896341f);
  n = nan ? 0.0f : n;                      // finite, in [-126, 127]
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  uint32_t bits;
  std::memcpy(&bits, &p, sizeof bits);
  bits += static_cast<uint32_t>(static_cast<int32_t>(n)) << 23;     // p * 2^n (mod 2^32: defined)
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

static inline float sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|); log1p on (0, 1] by atanh: log(1 + w) = 2 atanh(w / (2 + w)).
static inline float softplus(float x) {
  const float w = fast_exp(-std::fabs(x));
  const float s = w / (2.0f + w), s2 = s * s;   // s in (0, 1/3]
  const float l = 2.0f * s * (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11 + s2 * (1.0f / 13)))))));
  return (x > 0.0f ? x : 0.0f) + l;
}

// The hot loops.  Each runs over the D channels of one step t (and one state n) with restrict
// pointers and no branches, so gcc emits SIMD code for all of them (check with -fopt-info-vec).

// dt = softplus(delta + bias); dtu = dt u; acc = Dskip u (the skip term starts the output sum)
static inline void step_prologue(int64_t D, const float* __restrict dr, const float* __restrict bias,
                                 const float* __restrict ur, const float* __restrict dsk, float* __restrict dt,
                                 float* __restrict dtu, float* __restrict acc) {
  for (int64_t d = 0; d < D; ++d) {
    dt[d] = softplus(dr[d] + bias[d]);
    dtu[d] = dt[d] * ur[d];
    acc[d] = dsk[d] * ur[d];
  }
}

// h = exp(dt A_n) h + dtu b_n (in place); acc += c_n h
static inline void state_step(int64_t D, const float* __restrict dt, const float* __restrict an,
                              const float* __restrict dtu, float bn, float cn, float* __restrict h,
                              float* __restrict acc) {
  for (int64_t d = 0; d < D; ++d) {
    const float hv = fast_exp(dt[d] * an[d]) * h[d] + dtu[d] * bn;
    h[d] = hv;
    acc[d] += cn * hv;
  }
}

// the same step for the backward's recompute: reads h_{t-1}, writes h_t and a_t to the buffers
static inline void state_step_kept(int64_t D, const float* __restrict dt, const float* __restrict an,
                                   const float* __restrict dtu, float bn, float cn, const float* __restrict hprev,
                                   float* __restrict h, float* __restrict a_out, float* __restrict acc) {
  for (int64_t d = 0; d < D; ++d) {
    const float a = fast_exp(dt[d] * an[d]);
    const float hv = a * hprev[d] + dtu[d] * bn;
    a_out[d] = a;
    h[d] = hv;
    acc[d] += cn * hv;
  }
}

// y = p silu(z)
static inline void gate_forward(int64_t D, const float* __restrict p, const float* __restrict zr,
                                float* __restrict y) {
  for (int64_t d = 0; d < D; ++d) y[d] = p[d] * zr[d] * sigmoid(zr[d]);
}

// from dL/dy: gp = dL/dp, dz, dDskip += gp u, du = gp Dskip; resets the per-step sums sB, ddt
static inline void gate_backward(int64_t D, const float* __restrict gr, const float* __restrict zr,
                                 const float* __restrict p, const float* __restrict ur,
                                 const float* __restrict dsk, const float* __restrict dt, float* __restrict gp,
                                 float* __restrict dz, float* __restrict dD, float* __restrict du,
                                 float* __restrict dtu, float* __restrict sB, float* __restrict ddt) {
  for (int64_t d = 0; d < D; ++d) {
    const float sz = sigmoid(zr[d]);
    gp[d] = gr[d] * zr[d] * sz;
    dz[d] = gr[d] * p[d] * sz * (1.0f + zr[d] * (1.0f - sz));
    dD[d] += gp[d] * ur[d];
    du[d] = gp[d] * dsk[d];
    dtu[d] = dt[d] * ur[d];
    sB[d] = 0.0f;
    ddt[d] = 0.0f;
  }
}

// one (t, n) of the reverse recurrence: g = a_{t+1} g + c_n gp; dC = <gp, h_t>; dB = <g, dtu>;
// sB += g b_n (= dL/d(dt u)); q = g h_{t-1} a_t = dL/d(dt A): ddt += q A_n, dA_n += q dt
static inline void state_step_backward(int64_t D, const float* __restrict anext, const float* __restrict at,
                                       const float* __restrict ht, const float* __restrict hprev,
                                       const float* __restrict an, const float* __restrict dt,
                                       const float* __restrict dtu, const float* __restrict gp, float bn, float cn,
                                       float* __restrict g, float* __restrict sB, float* __restrict ddt,
                                       float* __restrict dA, float* dc_out, float* db_out) {
  float dc = 0.0f, db = 0.0f;
  for (int64_t d = 0; d < D; ++d) {
    const float gv = anext[d] * g[d] + cn * gp[d];
    g[d] = gv;
    dc += gp[d] * ht[d];
    db += gv * dtu[d];
    sB[d] += gv * bn;
    const float q = gv * hprev[d] * at[d];
    ddt[d] += q * an[d];
    dA[d] += q * dt[d];
  }
  *dc_out = dc;
  *db_out = db;
}

// through dtu = dt u and dt = softplus(delta + bias): du += sB dt; ddelta = (ddt + sB u) sigmoid(delta + bias)
static inline void delta_backward(int64_t D, const float* __restrict sB, const float* __restrict dt,
                                  const float* __restrict ur, const float* __restrict ddt,
                                  const float* __restrict dr, const float* __restrict bias, float* __restrict du,
                                  float* __restrict ddelta, float* __restrict dbias) {
  for (int64_t d = 0; d < D; ++d) {
    du[d] += sB[d] * dt[d];
    const float gx = (ddt[d] + sB[d] * ur[d]) * sigmoid(dr[d] + bias[d]);
    ddelta[d] = gx;
    dbias[d] += gx;
  }
}


#if defined(__AVX2__) && defined(__FMA__)
#define MDTF_HAVE_AVX2 1
// fast_exp on 8 floats (the same Cephes reduction and polynomial).  max/min with the constant first:
// they return the second operand when it is NaN, so NaN stays NaN as in the scalar version.
static inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-87.0f), x);
  x = _mm256_min_ps(_mm256_set1_ps(88.0f), x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

// The state loop of one step with the channels in blocks of 8 on the outside and the N states inside:
// dt, dt u and the output sum of a block stay in registers for all N states (the plain loops above
// reload and store them once per state).  W = D, a multiple of 8.  kept: also write a_t and h_t.
// hprev and h may be the same buffer (the forward updates its state in place), so neither is restrict.
template <int64_t W, bool kept>
static inline void state_steps8(int64_t N, const float* __restrict dt, const float* __restrict at,
                                const float* __restrict dtu, const float* __restrict br, const float* __restrict cr,
                                const float* hprev, float* h, float* __restrict a_out, float* __restrict acc) {
  for (int64_t j = 0; j < W; j += 8) {
    const __m256 dtv = _mm256_loadu_ps(dt + j), dtuv = _mm256_loadu_ps(dtu + j);
    __m256 acc0 = _mm256_loadu_ps(acc + j), acc1 = _mm256_setzero_ps();
    int64_t n = 0;
    for (; n + 1 < N; n += 2) {
      const int64_t o0 = n * W + j, o1 = o0 + W;
      const __m256 a0 = exp8(_mm256_mul_ps(dtv, _mm256_loadu_ps(at + o0)));
      const __m256 a1 = exp8(_mm256_mul_ps(dtv, _mm256_loadu_ps(at + o1)));
      const __m256 h0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(hprev + o0), _mm256_mul_ps(dtuv, _mm256_set1_ps(br[n])));
      const __m256 h1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(hprev + o1), _mm256_mul_ps(dtuv, _mm256_set1_ps(br[n + 1])));
      _mm256_storeu_ps(h + o0, h0);
      _mm256_storeu_ps(h + o1, h1);
      if constexpr (kept) {
        _mm256_storeu_ps(a_out + o0, a0);
        _mm256_storeu_ps(a_out + o1, a1);
      }
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(cr[n]), h0, acc0);
      acc1 = _mm256_fmadd_ps(_mm256_set1_ps(cr[n + 1]), h1, acc1);
    }
    for (; n < N; ++n) {
      const int64_t o0 = n * W + j;
      const __m256 a0 = exp8(_mm256_mul_ps(dtv, _mm256_loadu_ps(at + o0)));
      const __m256 h0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(hprev + o0), _mm256_mul_ps(dtuv, _mm256_set1_ps(br[n])));
      _mm256_storeu_ps(h + o0, h0);
      if constexpr (kept) _mm256_storeu_ps(a_out + o0, a0);
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(cr[n]), h0, acc0);
    }
    _mm256_storeu_ps(acc + j, _mm256_add_ps(acc0, acc1));
  }
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// All N states of one step t of the reverse recurrence (state_step_backward for every n), blocks of 8
// channels outside: gp, dt, dt u and the sums sB, ddt stay in registers; dC[n], dB[n] are reduced
// over the channels from per-lane partial sums (dcv, dbv: N x 8 scratch).
template <int64_t W>
static inline void state_steps8_backward(int64_t N, const float* __restrict anext, const float* __restrict at,
                                         const float* __restrict ht, const float* __restrict hprev,
                                         const float* __restrict an, const float* __restrict dt,
                                         const float* __restrict dtu, const float* __restrict gp,
                                         const float* __restrict br, const float* __restrict cr,
                                         float* __restrict g, float* __restrict sB, float* __restrict ddt,
                                         float* __restrict dA, float* __restrict dcv, float* __restrict dbv,
                                         float* __restrict dc_out, float* __restrict db_out) {
  for (int64_t j = 0; j < W; j += 8) {
    const __m256 gpv = _mm256_loadu_ps(gp + j), dtv = _mm256_loadu_ps(dt + j), dtuv = _mm256_loadu_ps(dtu + j);
    __m256 sBv = _mm256_setzero_ps(), ddtv = _mm256_setzero_ps();
    for (int64_t n = 0; n < N; ++n) {
      const int64_t o = n * W + j;
      const __m256 gv = _mm256_fmadd_ps(_mm256_loadu_ps(anext + o), _mm256_loadu_ps(g + o),
                                        _mm256_mul_ps(_mm256_set1_ps(cr[n]), gpv));
      _mm256_storeu_ps(g + o, gv);
      __m256 dcs = _mm256_mul_ps(gpv, _mm256_loadu_ps(ht + o)), dbs = _mm256_mul_ps(gv, dtuv);
      if (j) {
        dcs = _mm256_add_ps(dcs, _mm256_loadu_ps(dcv + n * 8));
        dbs = _mm256_add_ps(dbs, _mm256_loadu_ps(dbv + n * 8));
      }
      _mm256_storeu_ps(dcv + n * 8, dcs);
      _mm256_storeu_ps(dbv + n * 8, dbs);
      sBv = _mm256_fmadd_ps(gv, _mm256_set1_ps(br[n]), sBv);
      const __m256 q = _mm256_mul_ps(_mm256_mul_ps(gv, _mm256_loadu_ps(hprev + o)), _mm256_loadu_ps(at + o));
      ddtv = _mm256_fmadd_ps(q, _mm256_loadu_ps(an + o), ddtv);
      _mm256_storeu_ps(dA + o, _mm256_fmadd_ps(q, dtv, _mm256_loadu_ps(dA + o)));
    }
    _mm256_storeu_ps(sB + j, sBv);
    _mm256_storeu_ps(ddt + j, ddtv);
  }
  for (int64_t n = 0; n < N; ++n) {
    dc_out[n] = hsum8(_mm256_loadu_ps(dcv + n * 8));
    db_out[n] = hsum8(_mm256_loadu_ps(dbv + n * 8));
  }
}
#endif

struct View {  // a (S, L, K) float tensor with a contiguous last dimension
  const float* p;
  int64_t ss, sl;
  explicit View(const at::Tensor& t) : p(t.data_ptr<float>()), ss(t.stride(0)), sl(t.stride(1)) {}
  const float* row(int64_t s, int64_t t) const { return p + s * ss + t * sl; }
};

// every input: float32, on the CPU (the kernels read raw float pointers)
void check_float_cpu(const at::Tensor& t, const char* op, const char* name) {
  TORCH_CHECK(t.device().is_cpu(), op, ": ", name, " must be a CPU tensor, got one on ", t.device(),
              "; move it with .cpu() or pick a scan backend for that device");
  TORCH_CHECK(t.scalar_type() == at::kFloat, op, ": ", name, " must be float32, got ", t.scalar_type(),
              "; convert it with .float()");
}

// an (S, L, K) tensor: any strides, but a contiguous last dimension
void check_slk(const at::Tensor& t, const char* op, const char* name, int64_t S, int64_t L, int64_t K) {
  TORCH_CHECK(t.dim() == 3 && t.size(0) == S && t.size(1) == L && t.size(2) == K, op, ": ", name,
              " must have shape (", S, ", ", L, ", ", K, "), got ", t.sizes());
  check_float_cpu(t, op, name);
  TORCH_CHECK(K <= 1 || t.stride(2) == 1, op, ": ", name, " needs a contiguous last dimension (stride 1), got strides ",
              t.strides(), "; pass .contiguous()");
}

// a (D,) vector or a (D, K) matrix (made contiguous here: they are small)
void check_params(const at::Tensor& t, const char* op, const char* name, int64_t D, int64_t cols) {
  const bool ok = cols < 0 ? (t.dim() == 1 && t.size(0) == D) : (t.dim() == 2 && t.size(0) == D);
  TORCH_CHECK(ok, op, ": ", name, " must have shape (", D, cols < 0 ? ")" : ", K)", ", got ", t.sizes());
  check_float_cpu(t, op, name);
}

void check_inputs(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
                  const at::Tensor& C, const at::Tensor& Dskip, const at::Tensor& z, const at::Tensor& bias) {
  const char* op = "fused scan";
  TORCH_CHECK(u.dim() == 3, op, ": u must be (S, L, D), got ", u.sizes());
  const int64_t S = u.size(0), L = u.size(1), D = u.size(2);
  check_params(A, op, "A", D, 0);
  const int64_t N = A.size(1);
  check_slk(u, op, "u", S, L, D);
  check_slk(delta, op, "delta", S, L, D);
  check_slk(B, op, "B", S, L, N);
  check_slk(C, op, "C", S, L, N);
  check_slk(z, op, "z", S, L, D);
  check_params(Dskip, op, "D", D, -1);
  check_params(bias, op, "delta_bias", D, -1);
}

// Sequences per chunk of the gradients summed over sequences: each chunk sums its sequences in order
// into its own partial buffer, and the partials are added in chunk order.  A constant, so the result
// does not depend on how at::parallel_for splits the chunks over threads.
constexpr int64_t kChunk = 4;

// dst[i] = sum over chunks c = 0, 1, ... of part[c * stride + i], in that order (deterministic)
void sum_partials(const float* part, int64_t n_chunks, int64_t stride, int64_t len, float* dst) {
  for (int64_t i = 0; i < len; ++i) dst[i] = 0.0f;
  for (int64_t c = 0; c < n_chunks; ++c) {
    const float* row = part + c * stride;
    for (int64_t i = 0; i < len; ++i) dst[i] += row[i];
  }
}

// Runs body(width, i0, i1) with the channel count as a compile-time constant (std::integral_constant)
// for the widths the models use (constant trip counts: the SIMD loops carry no remainder code), 0
// otherwise.  A generic lambda reads it back as decltype(width)::value (C++17; no templated lambdas).
template <int64_t W>
using Width = std::integral_constant<int64_t, W>;

template <class F>
void dispatch_width(int64_t D, const F& body, int64_t i0, int64_t i1) {
  switch (D) {
    case 8: body(Width<8>{}, i0, i1); break;
    case 16: body(Width<16>{}, i0, i1); break;
    case 32: body(Width<32>{}, i0, i1); break;
    case 64: body(Width<64>{}, i0, i1); break;
    case 128: body(Width<128>{}, i0, i1); break;
    default: body(Width<0>{}, i0, i1);
  }
}

// y (S, L, D) and the last state (S, N, D)
std::tuple<at::Tensor, at::Tensor> forward(at::Tensor u, at::Tensor delta, at::Tensor A, at::Tensor B, at::Tensor C,
                                           at::Tensor Dskip, at::Tensor z, at::Tensor bias) {
  check_inputs(u, delta, A, B, C, Dskip, z, bias);
  const int64_t S = u.size(0), L = u.size(1), D = u.size(2), N = A.size(1);
  auto At = A.t().contiguous();                        // (N, D): a row per state, channels contiguous
  auto Dc = Dskip.contiguous(), bc = bias.contiguous();
  auto y = at::empty({S, L, D}, u.options());
  auto last = at::empty({S, N, D}, u.options());
  const View uv(u), dv(delta), Bv(B), Cv(C), zv(z);
  const float* at = At.data_ptr<float>();
  const float* dsk = Dc.data_ptr<float>();
  const float* bia = bc.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  float* lp = last.data_ptr<float>();

  const int64_t width = D;
  auto body = [&](auto width_c, int64_t s0, int64_t s1) {
    constexpr int64_t W = decltype(width_c)::value;
    FlushDenormals ftz;
    const int64_t D = W ? W : width;
    std::vector<float> hbuf(N * D), dtbuf(D), dtubuf(D), accbuf(D);
    float *h = hbuf.data(), *dt = dtbuf.data(), *dtu = dtubuf.data(), *acc = accbuf.data();
    for (int64_t s = s0; s < s1; ++s) {
      std::fill(hbuf.begin(), hbuf.end(), 0.0f);
      for (int64_t t = 0; t < L; ++t) {
        const float* br = Bv.row(s, t);
        const float* cr = Cv.row(s, t);
        step_prologue(D, dv.row(s, t), bia, uv.row(s, t), dsk, dt, dtu, acc);
#ifdef MDTF_HAVE_AVX2
        if constexpr (W > 0 && W % 8 == 0) {
          state_steps8<W, false>(N, dt, at, dtu, br, cr, h, h, nullptr, acc);
        } else
#endif
        for (int64_t n = 0; n < N; ++n) state_step(D, dt, at + n * D, dtu, br[n], cr[n], h + n * D, acc);
        gate_forward(D, acc, zv.row(s, t), yp + (s * L + t) * D);
      }
      std::memcpy(lp + s * N * D, h, sizeof(float) * N * D);
    }
  };
  at::parallel_for(0, S, 1, [&](int64_t s0, int64_t s1) { dispatch_width(width, body, s0, s1); });
  return {y, last};
}

// Gradients of sum(y * gy) w.r.t. every input: du, ddelta, dA (D, N), dB, dC, dDskip, dz, dbias.
std::vector<at::Tensor> backward(at::Tensor u, at::Tensor delta, at::Tensor A, at::Tensor B, at::Tensor C,
                                 at::Tensor Dskip, at::Tensor z, at::Tensor bias, at::Tensor gy) {
  check_inputs(u, delta, A, B, C, Dskip, z, bias);
  const int64_t S = u.size(0), L = u.size(1), D = u.size(2), N = A.size(1);
  check_slk(gy, "fused scan", "grad_y", S, L, D);
  auto At = A.t().contiguous();
  auto Dc = Dskip.contiguous(), bc = bias.contiguous();
  auto opts = u.options();
  auto du = at::empty({S, L, D}, opts), ddelta = at::empty({S, L, D}, opts), dz = at::empty({S, L, D}, opts);
  auto dB = at::empty({S, L, N}, opts), dC = at::empty({S, L, N}, opts);
  auto dAt = at::empty({N, D}, opts), dD = at::empty({D}, opts), dbias = at::empty({D}, opts);
  // per chunk of kChunk sequences: [dA (N, D) | dD (D) | dbias (D)], summed in chunk order at the end
  const int64_t n_chunks = (S + kChunk - 1) / kChunk, pstride = N * D + 2 * D;
  auto partial = at::zeros({n_chunks, pstride}, opts);
  float* partp = partial.data_ptr<float>();
  const View uv(u), dv(delta), Bv(B), Cv(C), zv(z), gv(gy);
  const float* at = At.data_ptr<float>();
  const float* dsk = Dc.data_ptr<float>();
  const float* bia = bc.data_ptr<float>();
  float *dup = du.data_ptr<float>(), *ddp = ddelta.data_ptr<float>(), *dzp = dz.data_ptr<float>();
  float *dBp = dB.data_ptr<float>(), *dCp = dC.data_ptr<float>();

  const int64_t width = D;
  auto body = [&](auto width_c, int64_t c0, int64_t c1) {   // chunks c0 .. c1-1
    constexpr int64_t W = decltype(width_c)::value;
    FlushDenormals ftz;
    const int64_t D = W ? W : width;
    const int64_t ND = N * D;
    // per thread: states h_t and factors a_t of one sequence (t = -1 .. L-1 and 0 .. L: zero ends),
    // dt and the pre-gate output p per step, the reverse state g, and per-step sums
    std::vector<float> Hbuf((L + 1) * ND, 0.0f), Abuf((L + 1) * ND, 0.0f), DT(L * D), P(L * D);
    std::vector<float> gbuf(ND), gpb(D), sBb(D), ddtb(D), dtub(D);
    std::vector<float> dcv(N * 8), dbv(N * 8);   // per-lane partial sums of dC, dB (blocked path)
    float* H = Hbuf.data() + ND;                       // H[-1] = 0: the state before the first step
    float* Ab = Abuf.data();                           // Ab[L] = 0: no step after the last one
    float *g = gbuf.data(), *gp = gpb.data(), *sB = sBb.data(), *ddt = ddtb.data(), *dtu = dtub.data();
    for (int64_t c = c0; c < c1; ++c) {
      float* dA_loc = partp + c * pstride;               // this chunk's sums, in sequence order
      float* dD_loc = dA_loc + ND;
      float* db_loc = dD_loc + D;
      for (int64_t s = c * kChunk; s < std::min(S, (c + 1) * kChunk); ++s) {
        // 1. recompute dt, a, h and the pre-gate output p of this sequence
        for (int64_t t = 0; t < L; ++t) {
          const float* br = Bv.row(s, t);
          const float* cr = Cv.row(s, t);
          float* dtt = DT.data() + t * D;
          float* pt = P.data() + t * D;
          step_prologue(D, dv.row(s, t), bia, uv.row(s, t), dsk, dtt, dtu, pt);
#ifdef MDTF_HAVE_AVX2
          if constexpr (W > 0 && W % 8 == 0) {
            state_steps8<W, true>(N, dtt, at, dtu, br, cr, H + (t - 1) * ND, H + t * ND, Ab + t * ND, pt);
          } else
#endif
          for (int64_t n = 0; n < N; ++n)
            state_step_kept(D, dtt, at + n * D, dtu, br[n], cr[n], H + (t - 1) * ND + n * D, H + t * ND + n * D,
                            Ab + t * ND + n * D, pt);
        }
        // 2. reverse recurrence, t = L-1 .. 0
        std::fill(gbuf.begin(), gbuf.end(), 0.0f);
        for (int64_t t = L - 1; t >= 0; --t) {
          const float* ur = uv.row(s, t);
          const float* br = Bv.row(s, t);
          const float* cr = Cv.row(s, t);
          const float* dtt = DT.data() + t * D;
          float* dut = dup + (s * L + t) * D;
          gate_backward(D, gv.row(s, t), zv.row(s, t), P.data() + t * D, ur, dsk, dtt, gp, dzp + (s * L + t) * D,
                        dD_loc, dut, dtu, sB, ddt);
#ifdef MDTF_HAVE_AVX2
          if constexpr (W > 0 && W % 8 == 0) {
            state_steps8_backward<W>(N, Ab + (t + 1) * ND, Ab + t * ND, H + t * ND, H + (t - 1) * ND, at, dtt, dtu, gp,
                                     br, cr, g, sB, ddt, dA_loc, dcv.data(), dbv.data(), dCp + (s * L + t) * N,
                                     dBp + (s * L + t) * N);
          } else
#endif
          for (int64_t n = 0; n < N; ++n)
            state_step_backward(D, Ab + (t + 1) * ND + n * D, Ab + t * ND + n * D, H + t * ND + n * D,
                                H + (t - 1) * ND + n * D, at + n * D, dtt, dtu, gp, br[n], cr[n], g + n * D, sB, ddt,
                                dA_loc + n * D, dCp + (s * L + t) * N + n, dBp + (s * L + t) * N + n);
          delta_backward(D, sB, dtt, ur, ddt, dv.row(s, t), bia, dut, ddp + (s * L + t) * D, db_loc);
        }
      }
    }
  };
  at::parallel_for(0, n_chunks, 1, [&](int64_t c0, int64_t c1) { dispatch_width(width, body, c0, c1); });
  sum_partials(partp, n_chunks, pstride, N * D, dAt.data_ptr<float>());
  sum_partials(partp + N * D, n_chunks, pstride, D, dD.data_ptr<float>());
  sum_partials(partp + N * D + D, n_chunks, pstride, D, dbias.data_ptr<float>());
  return {du, ddelta, dAt.t().contiguous(), dB, dC, dD, dz, dbias};
}


// ---------------------------------------------------------------------------------------------
// The causal depthwise conv + SiLU in front of the scan (same layout, same threading):
//   pre[t, d] = bias[d] + sum_k w[d, k] x[t - K + 1 + k, d]      (x[t < 0] = 0)
//   u[t, d]   = silu(pre[t, d])
// x (S, L, D) with a contiguous last dimension; w (D, K) as nn.Conv1d(D, D, K, groups=D) stores it.

static inline void conv_row(int64_t D, int64_t K, int64_t t, const float* __restrict wt, const float* __restrict bias,
                            const float* const* rows, float* __restrict pre) {
  for (int64_t d = 0; d < D; ++d) pre[d] = bias[d];
  for (int64_t k = 0; k < K; ++k) {
    const int64_t src = t - K + 1 + k;
    if (src < 0) continue;
    const float* __restrict xr = rows[src];
    const float* __restrict wk = wt + k * D;
    for (int64_t d = 0; d < D; ++d) pre[d] += wk[d] * xr[d];
  }
}

static inline void silu_row(int64_t D, const float* __restrict pre, float* __restrict u) {
  for (int64_t d = 0; d < D; ++d) u[d] = pre[d] * sigmoid(pre[d]);
}

// gp = gu silu'(pre);  silu'(v) = s (1 + v (1 - s)), s = sigmoid(v)
static inline void silu_backward_row(int64_t D, const float* __restrict pre, const float* __restrict gu,
                                     float* __restrict gp, float* __restrict gb) {
  for (int64_t d = 0; d < D; ++d) {
    const float sg = sigmoid(pre[d]);
    gp[d] = gu[d] * sg * (1.0f + pre[d] * (1.0f - sg));
    gb[d] += gp[d];
  }
}

static inline void conv_backward_tap(int64_t D, const float* __restrict gp, const float* __restrict xr,
                                     const float* __restrict wk, float* __restrict gw, float* __restrict gx) {
  for (int64_t d = 0; d < D; ++d) {
    gw[d] += gp[d] * xr[d];
    gx[d] += wk[d] * gp[d];
  }
}

void check_conv(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  TORCH_CHECK(x.dim() == 3, "fused conv: x must be (S, L, D), got ", x.sizes());
  const int64_t D = x.size(2);
  check_slk(x, "fused conv", "x", x.size(0), x.size(1), D);
  check_params(w, "fused conv", "weight", D, 0);
  check_params(b, "fused conv", "bias", D, -1);
}

at::Tensor conv_silu_forward(at::Tensor x, at::Tensor w, at::Tensor b) {
  check_conv(x, w, b);
  const int64_t S = x.size(0), L = x.size(1), D = x.size(2), K = w.size(1);
  auto wt = w.t().contiguous();                         // (K, D)
  auto bc = b.contiguous();
  auto u = at::empty({S, L, D}, x.options());
  const View xv(x);
  const float* wtp = wt.data_ptr<float>();
  const float* bp = bc.data_ptr<float>();
  float* up = u.data_ptr<float>();
  const int64_t width = D;
  auto body = [&](auto width_c, int64_t s0, int64_t s1) {
    constexpr int64_t W = decltype(width_c)::value;
    FlushDenormals ftz;
    const int64_t D = W ? W : width;
    std::vector<float> pre(D);
    std::vector<const float*> rows(L);
    for (int64_t s = s0; s < s1; ++s) {
      for (int64_t t = 0; t < L; ++t) rows[t] = xv.row(s, t);
      for (int64_t t = 0; t < L; ++t) {
        conv_row(D, K, t, wtp, bp, rows.data(), pre.data());
        silu_row(D, pre.data(), up + (s * L + t) * D);
      }
    }
  };
  at::parallel_for(0, S, 1, [&](int64_t s0, int64_t s1) { dispatch_width(width, body, s0, s1); });
  return u;
}

std::vector<at::Tensor> conv_silu_backward(at::Tensor x, at::Tensor w, at::Tensor b, at::Tensor gu) {
  check_conv(x, w, b);
  const int64_t S = x.size(0), L = x.size(1), D = x.size(2), K = w.size(1);
  check_slk(gu, "fused conv", "grad_u", S, L, D);
  auto wt = w.t().contiguous();
  auto bc = b.contiguous();
  auto gx = at::zeros({S, L, D}, x.options());
  auto gwt = at::empty({K, D}, x.options()), gb = at::empty({D}, x.options());
  // per chunk of kChunk sequences: [dw (K, D) | db (D)], summed in chunk order at the end
  const int64_t n_chunks = (S + kChunk - 1) / kChunk, pstride = K * D + D;
  auto partial = at::zeros({n_chunks, pstride}, x.options());
  float* partp = partial.data_ptr<float>();
  const View xv(x), gv(gu);
  const float* wtp = wt.data_ptr<float>();
  const float* bp = bc.data_ptr<float>();
  float* gxp = gx.data_ptr<float>();
  const int64_t width = D;
  auto body = [&](auto width_c, int64_t c0, int64_t c1) {   // chunks c0 .. c1-1
    constexpr int64_t W = decltype(width_c)::value;
    FlushDenormals ftz;
    const int64_t D = W ? W : width;
    std::vector<float> pre(D), gp(D);
    std::vector<const float*> rows(L);
    for (int64_t c = c0; c < c1; ++c) {
      float* gw_loc = partp + c * pstride;               // this chunk's sums, in sequence order
      float* gb_loc = gw_loc + K * D;
      for (int64_t s = c * kChunk; s < std::min(S, (c + 1) * kChunk); ++s) {
        for (int64_t t = 0; t < L; ++t) rows[t] = xv.row(s, t);
        for (int64_t t = 0; t < L; ++t) {
          conv_row(D, K, t, wtp, bp, rows.data(), pre.data());
          silu_backward_row(D, pre.data(), gv.row(s, t), gp.data(), gb_loc);
          for (int64_t k = 0; k < K; ++k) {
            const int64_t src = t - K + 1 + k;
            if (src < 0) continue;
            conv_backward_tap(D, gp.data(), rows[src], wtp + k * D, gw_loc + k * D, gxp + (s * L + src) * D);
          }
        }
      }
    }
  };
  at::parallel_for(0, n_chunks, 1, [&](int64_t c0, int64_t c1) { dispatch_width(width, body, c0, c1); });
  sum_partials(partp, n_chunks, pstride, K * D, gwt.data_ptr<float>());
  sum_partials(partp + K * D, n_chunks, pstride, D, gb.data_ptr<float>());
  return {gx, gwt.t().contiguous(), gb};
}

}  // namespace

// The operators, registered with the dispatcher (torch.ops.mdtf_lite.*): the library is loaded with
// torch.ops.load_library, and Python (cpp_kernel/__init__.py) adds their fake-tensor shapes and autograd.
TORCH_LIBRARY(mdtf_lite, m) {
  m.def("scan_fwd(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor Dskip, Tensor z, "
        "Tensor delta_bias) -> (Tensor, Tensor)");
  m.def("scan_bwd(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor Dskip, Tensor z, "
        "Tensor delta_bias, Tensor grad_y) -> Tensor[]");
  m.def("conv_silu_fwd(Tensor x, Tensor weight, Tensor bias) -> Tensor");
  m.def("conv_silu_bwd(Tensor x, Tensor weight, Tensor bias, Tensor grad_u) -> Tensor[]");
}

TORCH_LIBRARY_IMPL(mdtf_lite, CPU, m) {
  m.impl("scan_fwd", &forward);
  m.impl("scan_bwd", &backward);
  m.impl("conv_silu_fwd", &conv_silu_forward);
  m.impl("conv_silu_bwd", &conv_silu_backward);
}
