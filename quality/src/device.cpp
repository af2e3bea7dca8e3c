// Device selection and CPU thread settings.
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <c10/core/Device.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <regex>
#include <thread>
#include <vector>

#include "faceqan/network.h"

// The OpenMP runtime that LibTorch brought in (libgomp on Debian, a bundled copy in PyTorch's
// wheels). Weak, so that nothing here decides which runtime is linked; null without one.
extern "C" __attribute__((weak)) void omp_set_num_threads(int);
extern "C" __attribute__((weak)) int omp_get_max_threads();

namespace faceqan {

bool cuda_available() { return at::hasCUDA() && at::getNumGPUs() > 0; }

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

c10::Device resolve_device(const std::string& spec) {
  if (spec.empty() || spec == "auto") {
    return cuda_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (spec == "cpu") return c10::Device(c10::kCPU);
  static const std::regex cuda_pattern(R"(cuda(:(\d+))?)");
  std::smatch match;
  if (!std::regex_match(spec, match, cuda_pattern)) {
    throw Error(ErrorCode::kInvalidArgument,
                "unknown device '" + spec + "': use auto, cpu, cuda or cuda:N");
  }
  if (!at::hasCUDA()) {
    throw Error(ErrorCode::kDeviceUnavailable,
                "device '" + spec + "' asked for, but this LibTorch was built without CUDA");
  }
  const int index = match[2].matched ? std::stoi(match[2].str()) : 0;
  if (index >= static_cast<int>(at::getNumGPUs())) {
    throw Error(ErrorCode::kDeviceUnavailable, "device '" + spec + "' asked for, but only " +
                                                   std::to_string(at::getNumGPUs()) + " GPU(s) found");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void set_cpu_threads(int threads) {
  if (threads < 0) throw Error(ErrorCode::kInvalidArgument, "threads must be >= 0 (0: all cores)");
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
}

int cpu_threads() { return at::get_num_threads(); }

namespace {

// oneDNN's ISA cap from the environment, upper-cased ("" when not set).
std::string onednn_isa_cap() {
  for (const char* name : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    std::string isa(value);
    std::transform(isa.begin(), isa.end(), isa.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return isa;
  }
  return "";
}

}  // namespace

bool onednn_uses_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool hardware = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl");
#else
  const bool hardware = false;
#endif
  const std::string cap = onednn_isa_cap();
  return hardware && (cap.empty() || cap == "ALL" || cap.rfind("AVX512", 0) == 0);
}

bool cpu_has_native_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool hardware = __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
#else
  const bool hardware = false;  // other architectures: not detected here, so fp32
#endif
  if (!hardware) return false;
  // oneDNN's own cap (the ISA names of oneDNN 2.x): below AVX512_CORE_BF16 it would emulate
  // bfloat16 or refuse it, so "auto" stays fp32 there.
  const std::string cap = onednn_isa_cap();
  return cap.empty() || cap == "ALL" || cap == "AVX512_CORE_BF16" || cap.rfind("AVX512_CORE_AMX", 0) == 0;
}

void flush_subnormals_on_compute_threads() {
  // The attack's loss, mean(1 - cos) with cos near 1, sends tiny gradients backwards through the
  // network; many intermediate values are subnormal floats, on which x86 arithmetic is up to
  // 100x slower. Flush-to-zero is a per-thread CPU mode, so it is set on the calling thread and,
  // through one parallel region with a chunk per thread, on every intra-op worker as well.
  at::globalContext().setFlushDenormal(true);
  const int64_t threads = at::get_num_threads();
  at::parallel_for(0, threads, 1, [](int64_t, int64_t) { at::globalContext().setFlushDenormal(true); });
}

bool can_run_side_by_side() { return omp_set_num_threads != nullptr && omp_get_max_threads != nullptr; }

namespace {

// The helper threads of run_side_by_side, started on first use and kept for the life of the
// process (never destroyed: a pass may still run while the process exits). A thread per pass
// would cost little time, but each new thread makes the allocator hand out another arena: in the
// 10,000-frame soak test resident memory grew 28% that way before levelling off.
class HelperThreads {
 public:
  static HelperThreads& instance() {
    static auto* helpers = new HelperThreads();
    return *helpers;
  }

  // Queues job(1), ..., job(count - 1) for the helpers (starting more if fewer than count - 1
  // exist), runs job(0) on the caller, and returns once all have ended.
  void run(std::int64_t count, const std::function<void(std::int64_t)>& job) {
    struct Pass {
      std::mutex mutex;
      std::condition_variable finished;
      std::int64_t left = 0;
    } pass;
    pass.left = count - 1;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (static_cast<std::int64_t>(threads_.size()) < count - 1) {
        threads_.emplace_back([this] { serve(); });
      }
      for (std::int64_t i = 1; i < count; ++i) {
        queue_.emplace_back([&pass, &job, i] {
          job(i);  // job stores its own exceptions
          std::lock_guard<std::mutex> lock(pass.mutex);
          if (--pass.left == 0) pass.finished.notify_all();
        });
      }
    }
    wake_.notify_all();
    job(0);
    std::unique_lock<std::mutex> lock(pass.mutex);
    pass.finished.wait(lock, [&pass] { return pass.left == 0; });
  }

 private:
  void serve() {
    for (;;) {
      std::function<void()> work;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty(); });
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
};

}  // namespace

void run_side_by_side(std::int64_t count, const std::function<void(std::int64_t)>& task) {
  if (count <= 1 || !can_run_side_by_side()) {
    for (std::int64_t i = 0; i < count; ++i) task(i);
    return;
  }
  // Each task runs with a team of one: LibTorch's own parallel loops and oneDNN then stay on
  // that thread, and no OpenMP barrier or spinning worker is involved at all. The team size is
  // a per-thread OpenMP setting; LibTorch sets it once per thread on first use, so that is done
  // first and then overridden (the caller's is restored afterwards).
  at::internal::lazy_init_num_threads();
  const int caller_team = omp_get_max_threads();
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(count));
  HelperThreads::instance().run(count, [&](std::int64_t index) {
    try {
      at::internal::lazy_init_num_threads();
      omp_set_num_threads(1);
      at::globalContext().setFlushDenormal(true);  // per thread, like the team size
      task(index);
    } catch (...) {
      errors[static_cast<std::size_t>(index)] = std::current_exception();
    }
  });
  omp_set_num_threads(caller_team);
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace faceqan
