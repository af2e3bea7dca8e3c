// Device selection and CPU thread settings.
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <c10/core/Device.h>

#include <regex>
#include <thread>

#include "faceqan/network.h"

namespace faceqan {

bool cuda_available() { return at::hasCUDA() && at::getNumGPUs() > 0; }

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

void flush_subnormals_on_compute_threads() {
  // The attack's loss, mean(1 - cos) with cos near 1, sends tiny gradients backwards through the
  // network; many intermediate values are subnormal floats, on which x86 arithmetic is up to
  // 100x slower. Flush-to-zero is a per-thread CPU mode, so it is set on the calling thread and,
  // through one parallel region with a chunk per thread, on every intra-op worker as well.
  at::globalContext().setFlushDenormal(true);
  const int64_t threads = at::get_num_threads();
  at::parallel_for(0, threads, 1, [](int64_t, int64_t) { at::globalContext().setFlushDenormal(true); });
}

}  // namespace faceqan
