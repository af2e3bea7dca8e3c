// FaceQAN (Babnik, Peer, Struc, ICPR 2022), batched over faces.
//
// For each face x: base = emb(x), symmetry = cos(emb(x), emb(hflip(x))); k noisy copies
// x + U(-eps, eps), clamped to [-1, 1] as the reference does; then l steps of the basic iterative
// method, recording cos(base, emb(copy)) before each step. The similarities of the last step are
// recorded but never stepped from, so its backward pass is skipped.
#include <torch/csrc/autograd/autograd.h>
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <ATen/detail/CUDAHooksInterface.h>

#include <algorithm>
#include <random>

#include "faceqan/network.h"

namespace faceqan {
namespace {

// splitmix64's finaliser: spreads (seed, key) pairs over independent generator seeds.
std::uint64_t mix(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

std::uint64_t face_seed(std::int64_t run_seed, std::uint64_t key) {
  return mix(mix(static_cast<std::uint64_t>(run_seed)) ^ key);
}

std::int64_t draw_seed() {
  std::random_device device;
  const std::uint64_t high = device(), low = device();
  return static_cast<std::int64_t>(((high << 32) | low) >> 1);  // non-negative
}

// The uniform noise of the k copies of every face, [faces, k, 3, H, W] on the CPU (in page-locked
// memory when it is bound for a GPU, so that its upload can overlap other work). Each face's noise
// comes from its own generator, so its copies do not depend on the other faces in the batch. The
// noise is drawn on the CPU so that every device sees the same draws.
at::Tensor copy_noise(const at::Tensor& clean_cpu, const std::vector<FaceImage>& faces,
                      std::int64_t run_seed, int samples, double epsilon, bool pinned) {
  const int64_t n = clean_cpu.size(0);
  at::Tensor noise = at::empty({n, samples, clean_cpu.size(1), clean_cpu.size(2), clean_cpu.size(3)},
                               at::TensorOptions().dtype(at::kFloat).pinned_memory(pinned));
  for (int64_t i = 0; i < n; ++i) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
        face_seed(run_seed, faces[static_cast<size_t>(i)].key));
    // rand * 2eps - eps, the way the reference draws U(-eps, eps).
    noise[i].copy_(at::rand(noise[i].sizes(), generator) * (2.0 * epsilon) - epsilon);
  }
  return noise;
}

// Host to device; from page-locked memory without blocking the host (LibTorch's caching host
// allocator keeps the source alive until the copy has run).
at::Tensor upload(const at::Tensor& host, const c10::Device& device) {
  if (device.is_cpu()) return host;
  const at::Tensor source = host.is_pinned() ? host : host.pin_memory();
  return source.to(device, /*non_blocking=*/true);
}

// The CPU rule (docs/PERFORMANCE.md, "How the attack runs on a CPU"): channels-last activations,
// and sub-batches of up to five noisy copies per thread where oneDNN runs AVX-512 kernels, two
// elsewhere. Measured convolution by convolution (bench/cpu_convolution_layouts.py, which resists
// other load) and whole (faceqan-bench-quality --images-per-pass --layouts) on an AVX-512 CPU and
// with oneDNN capped at AVX2: channels last is faster at every sub-batch size on both paths and
// avoids oneDNN's slow NCHW path at 4 or more images per pass; per image, AVX-512 convolutions
// are fastest at 4-8 images per pass and AVX2 ones at 2 (3 and more fall out of its caches).
constexpr int kRuleImagesPerPassAvx512 = 5;
constexpr int kRuleImagesPerPassOther = 2;
constexpr bool kRuleChannelsLast = true;

struct CpuPlan {
  int images_per_pass;
  bool channels_last;
};

CpuPlan cpu_plan(const CpuExecution& requested) {
  const int rule = onednn_uses_avx512() ? kRuleImagesPerPassAvx512 : kRuleImagesPerPassOther;
  return {requested.images_per_pass > 0 ? requested.images_per_pass : rule,
          requested.channels_last < 0 ? kRuleChannelsLast : requested.channels_last != 0};
}

Precision resolve_auto_precision(const c10::Device& device) {
  if (device.is_cpu()) return cpu_has_native_bf16() ? Precision::kBFloat16 : Precision::kFloat32;
  return at::detail::getCUDAHooks().supportsBFloat16ConvolutionWithCuDNNv8() ? Precision::kBFloat16
                                                                            : Precision::kFloat32;
}

}  // namespace

BatchSizeChoice auto_batch_size(const FaceQanScorer& scorer) {
  const RecognitionModel::Impl& net = scorer.model().impl();
  if (!net.device.is_cpu()) {
    return {32, "auto: 32 faces per pass on " + net.device.str() + " (enough copies to fill a GPU)"};
  }
  // The fewest faces whose copies fill every thread's sub-batches exactly: no thread waits for
  // another, and no sub-batch runs short (a pass of fewer images costs more per image).
  const int k = scorer.settings().samples;
  const int threads = can_run_side_by_side() ? std::max(1, cpu_threads()) : 1;
  const int per_pass = cpu_plan(scorer.settings().cpu).images_per_pass;
  int faces = 1;
  while ((faces * k) % (threads * per_pass) != 0 && faces < threads * per_pass) ++faces;
  return {faces, "auto: " + std::to_string(faces) + (faces == 1 ? " face" : " faces") +
                     " on the CPU (" + std::to_string(faces * k) + " noisy copies fill " +
                     std::to_string(threads) + (threads == 1 ? " thread" : " threads") + " x " +
                     std::to_string(per_pass) + " images per pass)"};
}

BatchSizeChoice choose_batch_size(const std::string& text, const FaceQanScorer& scorer) {
  if (text == "auto" || text.empty()) return auto_batch_size(scorer);
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 1 || value > 100000) {
    throw Error(ErrorCode::kInvalidArgument,
                "batch size must be auto or a whole number from 1 to 100000, got '" + text + "'");
  }
  return {static_cast<int>(value), "set explicitly"};
}

FaceQanScorer::FaceQanScorer(std::shared_ptr<RecognitionModel> model, FaceQanSettings settings)
    : model_(std::move(model)), settings_(settings) {
  if (!model_) throw Error(ErrorCode::kInvalidArgument, "FaceQanScorer needs a recognition model");
  settings_.validate();
  seed_ = settings_.seed == kRandomSeed ? draw_seed() : settings_.seed;
  if (settings_.precision == Precision::kAuto) {
    settings_.precision = resolve_auto_precision(model_->impl().device);
  }
  model_->impl().check_precision(settings_.precision);
}

FaceQanScorer::~FaceQanScorer() = default;

std::vector<FaceQuality> FaceQanScorer::score(const std::vector<FaceImage>& faces) {
  if (faces.empty()) return {};
  RecognitionModel::Impl& net = model_->impl();
  const int64_t n = static_cast<int64_t>(faces.size());
  const int k = settings_.samples;
  const int l = settings_.iterations;
  const double eps = settings_.epsilon;

  const bool gpu = !net.device.is_cpu();
  const c10::ScalarType dtype = precision_dtype(settings_.precision);
  if (gpu) {
    // TF32 tensor cores only when asked for: fp32 means IEEE float32. These are LibTorch's
    // process-wide switches, set for every pass (scorers of one process may differ).
    const bool tf32 = settings_.precision == Precision::kTF32;
    at::globalContext().setAllowTF32CuDNN(tf32);
    at::globalContext().setAllowTF32CuBLAS(tf32);
    // The batch shapes repeat from pass to pass: let cuDNN time its algorithms once per shape.
    at::globalContext().setBenchmarkCuDNN(true);
  } else {
    flush_subnormals_on_compute_threads();
  }
  const at::Tensor clean_cpu = faces_to_tensor(faces, net.contract);
  const at::Tensor clean = upload(clean_cpu, net.device);
  const at::Tensor noise = upload(copy_noise(clean_cpu, faces, seed_, k, eps, gpu), net.device);

  // Clean and mirrored faces in one forward pass, outside autograd (at the scoring precision, so
  // that the clean embedding and the noisy copies' embeddings come from the same arithmetic).
  at::Tensor base, symmetry;
  {
    at::NoGradGuard no_grad;
    const at::Tensor both = net.embed(at::cat({clean, clean.flip({3})}), dtype);
    base = both.slice(0, 0, n);
    symmetry = at::cosine_similarity(base, both.slice(0, n, 2 * n), 1);
  }
  const at::Tensor base_per_copy = base.repeat_interleave(k, 0);

  // The attack on all n*k copies. Each copy's steps depend on that copy alone (every layer of a
  // recognition network in eval mode works per image, and each face's loss is a mean over its
  // own copies), so on the CPU the copies are split into one contiguous chunk per compute thread
  // and the chunks run side by side, each single-threaded. That beats splitting every layer over
  // the threads, which costs an OpenMP barrier per layer (on the 2-core development machine two
  // threads that way were 3x slower than one). Each thread then takes its chunk a sub-batch of a
  // few copies at a time through all l steps: a sub-batch's activations (kept for the backward
  // pass) stay in the core's caches, where a whole chunk's (tens of MB at batch 8) would not; and
  // the activations are channels last, which oneDNN's convolutions read and write without
  // reordering. On a GPU: one chunk, one sub-batch.
  // The noisy copies, clamped to [-1, 1] as the reference does; float32 on any device, so the
  // same as the CPU's result bit for bit.
  const bool cpu = net.device.is_cpu();
  const CpuPlan plan = cpu_plan(settings_.cpu);
  at::Tensor copies = (clean.unsqueeze(1) + noise).clamp(-1.0, 1.0).flatten(0, 1);
  if (cpu && plan.channels_last) copies = copies.contiguous(at::MemoryFormat::ChannelsLast);
  const int64_t copy_count = n * k;
  const int64_t chunks =
      cpu && can_run_side_by_side() ? std::min<int64_t>(at::get_num_threads(), copy_count) : 1;
  at::Tensor similarities =
      at::empty({l, copy_count}, at::TensorOptions().dtype(at::kFloat).device(net.device));
  const auto attack = [&](int64_t begin, int64_t end) {
    const c10::AutoGradMode grad_mode(true);  // a thread-local mode: new threads need it too
    const at::Tensor target = base_per_copy.slice(0, begin, end);
    at::Tensor batch = copies.slice(0, begin, end);
    for (int step = 0; step < l; ++step) {
      if (step + 1 == l) {
        // The last step's similarities are recorded but never stepped from: no backward.
        at::NoGradGuard no_grad;
        similarities[step].slice(0, begin, end).copy_(
            at::cosine_similarity(target, net.embed(batch, dtype), 1));
        break;
      }
      batch = batch.detach().requires_grad_(true);
      const at::Tensor embeddings = net.embed(batch, dtype);
      const at::Tensor cosine = at::cosine_similarity(target, embeddings, 1);
      similarities[step].slice(0, begin, end).copy_(cosine.detach());
      // Each face's loss is mean(1 - cos) over its k copies: a copy's gradient is -dcos/k,
      // whichever chunk it is in (and its sign is all the step uses).
      const at::Tensor loss = (1.0 - cosine).sum() / k;
      at::Tensor gradient;
      if (dtype == at::kFloat) {
        gradient = torch::autograd::grad({loss}, {batch})[0];
      } else {
        // Lower precision: the loss's gradient with respect to each copy's embedding (float32)
        // is scaled by a power of two that brings its largest component to [1, 2) before it
        // enters the network, so that half precision's backward pass neither underflows (the
        // gradients of 1 - cos near cos = 1 are tiny) nor overflows. A copy's input gradient
        // depends only on its own row and the scale is positive, so the step's signs are
        // unchanged.
        const at::Tensor to_embeddings = torch::autograd::grad({loss}, {embeddings}, {}, true)[0];
        const at::Tensor largest = to_embeddings.abs().amax({1}, true).clamp_min(1e-30);
        const at::Tensor scaled = to_embeddings * at::exp2(-at::floor(at::log2(largest)));
        gradient = torch::autograd::grad({embeddings}, {batch}, {scaled})[0];
      }
      batch = (batch.detach() + eps * gradient.sign()).clamp(-1.0, 1.0);
    }
  };
  const auto attack_chunk = [&](int64_t chunk) {
    const int64_t begin = copy_count * chunk / chunks, end = copy_count * (chunk + 1) / chunks;
    if (begin == end) return;
    // Sub-batches of at most images_per_pass copies, as even in size as they can be.
    const int64_t size = end - begin;
    const int64_t passes = cpu ? (size + plan.images_per_pass - 1) / plan.images_per_pass : 1;
    for (int64_t pass = 0; pass < passes; ++pass) {
      attack(begin + size * pass / passes, begin + size * (pass + 1) / passes);
    }
  };
  run_side_by_side(chunks, attack_chunk);

  const at::Tensor similarities_cpu =
      similarities.view({l, n, k}).to(at::kCPU, at::kDouble).permute({1, 0, 2}).contiguous();
  const at::Tensor symmetry_cpu = symmetry.to(at::kCPU, at::kDouble).contiguous();
  // The clean pass's embeddings before normalisation (float32 at every precision): their norms
  // are the embedding-norm signal, at no extra pass.
  const at::Tensor norms = base.norm(2, {1}, true);
  const at::Tensor embeddings_cpu =
      (base / norms.clamp_min(1e-12)).to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor norms_cpu = norms.to(at::kCPU, at::kDouble).contiguous();
  const int64_t per_face = static_cast<int64_t>(l) * k;
  const int64_t dim = embeddings_cpu.size(1);
  std::vector<FaceQuality> results;
  results.reserve(faces.size());
  for (int64_t i = 0; i < n; ++i) {
    const double* s = similarities_cpu.data_ptr<double>() + i * per_face;
    FaceQuality quality = aggregate_quality(std::vector<double>(s, s + per_face),
                                            symmetry_cpu.data_ptr<double>()[i], settings_.exponent);
    const float* e = embeddings_cpu.data_ptr<float>() + i * dim;
    quality.embedding.assign(e, e + dim);
    quality.embedding_norm = norms_cpu.data_ptr<double>()[i];
    results.push_back(std::move(quality));
  }
  counters_.faces += static_cast<std::uint64_t>(n);
  counters_.forward_images += static_cast<std::uint64_t>(2 * n + n * k * l);
  counters_.backward_images += static_cast<std::uint64_t>(n * k * (l - 1));
  return results;
}

}  // namespace faceqan
