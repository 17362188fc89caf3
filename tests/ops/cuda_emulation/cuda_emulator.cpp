// CPU emulation of emkit's CUDA degradation op, for tests on machines without a GPU.
//
// csrc/cuda/degrade_launch.cuh and degrade_kernel.cuh are compiled here unmodified, as host
// C++, on top of cuda_shim.h. A launch runs its blocks one after another (forward, reverse
// or random block order); the threads of a block are fibers (ucontext) that run until
// their next __syncthreads, in the same order policy within each phase, so a race between
// threads of a block shows as results that depend on the order. Every buffer the kernels
// touch is a private copy between guard zones: shared memory and outputs start as NaN,
// input reads are bounds-checked, guard zones are checked after each block / call.
//
// Entry point (ctypes, see tests/ops/cuda_emulator.py): emu_degrade_cuda(EmuCall*).
#include <ucontext.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <vector>

#include "cuda_shim.h"
#include "degrade_launch.cuh"

// The running block's shared memory, in declaration order between guard zones (compiled
// with -fno-toplevel-reorder; shared_layout_ok() verifies the layout).
namespace emkit {
namespace degrade_dev {
float emu_guard0[64];
float canvas[kCanvasH * kCanvasStride];
float emu_guard1[64];
float rows[kCanvasH * kTileW];
float emu_guard2[64];
float wts[kTaps];
float emu_guard3[64];
}  // namespace degrade_dev
}  // namespace emkit

namespace emu {

Dim3 thread_idx, block_idx, block_dim, grid_dim;

namespace {

namespace dd = emkit::degrade_dev;

constexpr uint32_t kSharedNaN = 0x7fbadbadu;  // a NaN: unwritten shared memory poisons results
constexpr uint32_t kGuardWord = 0xdeadbeefu;
constexpr unsigned char kGuardByte = 0xa5;
constexpr size_t kGuardBytes = 4096;
constexpr size_t kStackBytes = 128 * 1024;

enum class State { kReady, kBarrier, kDone };

struct Fiber {
  ucontext_t ctx;
  State state = State::kDone;
  int kind = 0;  // 1: __syncthreads, 2: __syncthreads_or
  int vote = 0;
  long barriers = 0;
};

struct Region {
  uintptr_t begin = 0, end = 0;
  Region() = default;
  Region(const void* b, size_t bytes)
      : begin(reinterpret_cast<uintptr_t>(b)), end(reinterpret_cast<uintptr_t>(b) + bytes) {}
  bool contains(const void* p, size_t n) const {
    const uintptr_t c = reinterpret_cast<uintptr_t>(p);
    return begin != 0 && c >= begin && c + n <= end;
  }
};

struct State_ {
  std::vector<Fiber> fibers;
  std::vector<char> stacks;
  ucontext_t main_ctx;
  int current = -1;
  std::function<void()> body;
  int or_result = 0;
  int order = 0;  // 0 forward, 1 reverse, 2 random
  std::mt19937_64 rng;
  int sms = 2;
  Region input;
  Region outputs[2];
  char error[512] = {0};
  bool launch_failed = false;
  long blocks_run = 0;
  long barrier_phases = 0;
};
State_ S;

void record(const char* what, const void* where) {
  if (S.error[0] != '\0') return;  // keep the first violation
  std::snprintf(S.error, sizeof(S.error), "%s (address %p, block %u, thread %u)", what, where,
                block_idx.x, thread_idx.x);
}

std::vector<unsigned> ordering(unsigned n) {
  std::vector<unsigned> idx(n);
  std::iota(idx.begin(), idx.end(), 0u);
  if (S.order == 1) std::reverse(idx.begin(), idx.end());
  if (S.order == 2) std::shuffle(idx.begin(), idx.end(), S.rng);
  return idx;
}

void fiber_main() {
  S.body();
  S.fibers[S.current].state = State::kDone;  // uc_link resumes the scheduler
}

// Address of `p` as an integer the optimiser cannot reason about (addresses of distinct
// objects would otherwise compare unequal by assumption).
uintptr_t address(const void* p) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  asm volatile("" : "+r"(a));
  return a;
}

// The zone from emu_guard0 to the end of emu_guard3: the three arrays in order, everything
// else in it (the guards and any alignment gaps) is guard.
struct SharedArray {
  uintptr_t begin, end;
};
SharedArray shared_arrays[3];
uintptr_t zone_begin = 0, zone_end = 0;

bool shared_layout_ok() {
  zone_begin = address(dd::emu_guard0);
  zone_end = address(dd::emu_guard3) + sizeof(dd::emu_guard3);
  shared_arrays[0] = {address(dd::canvas), address(dd::canvas) + sizeof(dd::canvas)};
  shared_arrays[1] = {address(dd::rows), address(dd::rows) + sizeof(dd::rows)};
  shared_arrays[2] = {address(dd::wts), address(dd::wts) + sizeof(dd::wts)};
  const uintptr_t starts[] = {address(dd::emu_guard1), address(dd::emu_guard2), address(dd::emu_guard3)};
  uintptr_t at = zone_begin + sizeof(dd::emu_guard0);
  for (int k = 0; k < 3; ++k) {  // guard, then the array after a small alignment gap, ...
    if (shared_arrays[k].begin < at || shared_arrays[k].begin > at + 64) return false;
    if (starts[k] < shared_arrays[k].end || starts[k] > shared_arrays[k].end + 64) return false;
    at = starts[k] + 64 * sizeof(float);
  }
  return true;
}

bool in_array(uintptr_t p) {
  for (const SharedArray& a : shared_arrays)
    if (p >= a.begin && p < a.end) return true;
  return false;
}

void poison_shared() {
  for (uintptr_t p = zone_begin; p < zone_end; p += 4)
    *reinterpret_cast<uint32_t*>(p) = in_array(p) ? kSharedNaN : kGuardWord;
}

void check_shared_guards() {
  for (uintptr_t p = zone_begin; p < zone_end; p += 4)
    if (!in_array(p) && *reinterpret_cast<const uint32_t*>(p) != kGuardWord) {
      record("write outside a __shared__ array", reinterpret_cast<const void*>(p));
      return;
    }
}

// Releases the fibers waiting at a barrier; false (with a recorded error) on a divergent one.
bool release_barrier(unsigned threads) {
  int kind = 0, vote = 0;
  long count = -1;
  bool some_done = false, some_waiting = false;
  for (unsigned t = 0; t < threads; ++t) {
    const Fiber& f = S.fibers[t];
    if (f.state == State::kDone) {
      some_done = true;
      continue;
    }
    some_waiting = true;
    if (count < 0) {
      count = f.barriers;
      kind = f.kind;
    } else if (f.barriers != count || f.kind != kind) {
      record("threads of a block wait at different barriers", nullptr);
      return false;
    }
    vote |= f.vote;
  }
  if (some_waiting && some_done) {
    record("some threads of the block exited while others wait at __syncthreads", nullptr);
    return false;
  }
  S.or_result = vote;
  for (unsigned t = 0; t < threads; ++t)
    if (S.fibers[t].state == State::kBarrier) S.fibers[t].state = State::kReady;
  ++S.barrier_phases;
  return true;
}

void run_block(unsigned threads) {
  static ucontext_t proto;
  static bool have_proto = false;
  if (!have_proto) {
    getcontext(&proto);
    have_proto = true;
  }
  if (S.fibers.size() < threads) S.fibers.resize(threads);
  if (S.stacks.size() < threads * kStackBytes) S.stacks.resize(threads * kStackBytes);
  for (unsigned t = 0; t < threads; ++t) {
    Fiber& f = S.fibers[t];
    f = Fiber();
    f.ctx = proto;
    f.ctx.uc_stack.ss_sp = S.stacks.data() + t * kStackBytes;
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = &S.main_ctx;
    makecontext(&f.ctx, fiber_main, 0);
    f.state = State::kReady;
  }
  for (;;) {
    bool any_ready = false;
    for (unsigned t : ordering(threads)) {
      if (S.fibers[t].state != State::kReady) continue;
      any_ready = true;
      S.current = static_cast<int>(t);
      thread_idx.x = t;
      swapcontext(&S.main_ctx, &S.fibers[t].ctx);
    }
    if (!any_ready) break;
    bool all_done = true;
    for (unsigned t = 0; t < threads; ++t) all_done &= S.fibers[t].state == State::kDone;
    if (all_done || !release_barrier(threads)) break;
  }
  S.current = -1;
}

void wait_at_barrier(int kind, int vote) {
  Fiber& f = S.fibers[S.current];
  f.state = State::kBarrier;
  f.kind = kind;
  f.vote = vote != 0;
  ++f.barriers;
  swapcontext(&f.ctx, &S.main_ctx);
  thread_idx.x = static_cast<unsigned>(S.current);
}

}  // namespace

void syncthreads() { wait_at_barrier(1, 0); }

int syncthreads_or(int value) {
  wait_at_barrier(2, value);
  return S.or_result;
}

void fail(const char* what, const void* where) { record(what, where); }

bool readable(const void* p, size_t bytes) { return S.input.contains(p, bytes); }

bool writable(const void* p, size_t bytes) {
  return S.outputs[0].contains(p, bytes) || S.outputs[1].contains(p, bytes);
}

template <typename... P, typename... A>
void launch(void (*kernel)(P...), unsigned grid, unsigned block, A... args) {
  if (S.launch_failed) return;
  S.body = [&]() { kernel(args...); };
  grid_dim.x = grid;
  block_dim.x = block;
  for (unsigned b : ordering(grid)) {
    block_idx.x = b;
    poison_shared();
    run_block(block);
    check_shared_guards();
    ++S.blocks_run;
    if (S.error[0] != '\0') break;
  }
  if (S.error[0] != '\0') S.launch_failed = true;
}

}  // namespace emu

cudaError_t cudaGetLastError() {
  const bool failed = emu::S.launch_failed;
  emu::S.launch_failed = false;
  return failed ? cudaErrorLaunchFailure : cudaSuccess;
}

const char* cudaGetErrorString(cudaError_t err) {
  return err == cudaSuccess ? "no error" : (emu::S.error[0] ? emu::S.error : "launch failure");
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int) {
  *value = attr == cudaDevAttrMultiProcessorCount ? emu::S.sms : 0;
  return cudaSuccess;
}

namespace {

// A private copy of a buffer between guard zones.
struct Guarded {
  std::vector<unsigned char> mem;
  size_t bytes = 0;
  unsigned char* data() { return mem.data() + kGuardOffset(); }
  static size_t kGuardOffset() { return emu::kGuardBytes; }
  void make(size_t n, unsigned char fill) {
    bytes = n;
    mem.assign(n + 2 * emu::kGuardBytes + 64, emu::kGuardByte);
    std::memset(data(), fill, n);
  }
  bool guards_intact() const {
    for (size_t k = 0; k < emu::kGuardBytes; ++k)
      if (mem[k] != emu::kGuardByte || mem[emu::kGuardBytes + bytes + k] != emu::kGuardByte) return false;
    return true;
  }
};

}  // namespace

extern "C" {

// One call of the op; mirrors emkit::DegradeArgs (plus the emulation's knobs and counters).
struct EmuCall {
  const void* input;
  int32_t in_dtype, out_dtype;
  int64_t batch, channels, in_h, in_w, out_h, out_w;
  const float* params;
  void* out_clean;      // caller's buffers; null = not requested
  void* out_degraded;
  uint64_t seed;
  int32_t seed_on_device;
  int32_t order;        // 0 forward, 1 reverse, 2 random (blocks and threads)
  uint64_t order_seed;
  int32_t sms;          // SM count the launcher sees (Poisson grid = sms * 4 blocks)
  int32_t unused;
  const uint8_t* degrade_channels;
  const uint8_t* nearest_channels;
  int64_t blocks_run;   // out
  int64_t barrier_phases;  // out
};

const char* emu_degrade_cuda(EmuCall* call) {
  using emu::S;
  static char message[600];
  if (!emu::shared_layout_ok()) return "emulator build error: __shared__ arrays not laid out between guards";
  S.error[0] = '\0';
  S.launch_failed = false;
  S.blocks_run = S.barrier_phases = 0;
  S.order = call->order;
  S.rng.seed(call->order_seed);
  S.sms = call->sms > 0 ? call->sms : 2;
  const int64_t elem = call->in_dtype == 0 ? 1 : (call->in_dtype == 1 ? 2 : 4);
  const int64_t out_elem = call->out_dtype == 1 ? 2 : 4;
  const int64_t planes = call->batch * call->channels;
  const size_t in_bytes = static_cast<size_t>(planes * call->in_h * call->in_w * elem);
  const size_t out_bytes = static_cast<size_t>(planes * call->out_h * call->out_w * out_elem);

  Guarded input, params, clean, degraded, workspace, seed;
  input.make(in_bytes, 0);
  std::memcpy(input.data(), call->input, in_bytes);
  params.make(static_cast<size_t>(call->batch) * emkit::kParamCount * 4, 0);
  std::memcpy(params.data(), call->params, params.bytes);
  const unsigned char out_nan = 0xff;  // 0xffff... is a NaN in float32 and bfloat16
  if (call->out_clean) clean.make(out_bytes, out_nan);
  if (call->out_degraded) degraded.make(out_bytes, out_nan);
  workspace.make(static_cast<size_t>(emkit::degrade_dev::workspace_bytes(call->batch)), 0xff);
  seed.make(8, 0);
  std::memcpy(seed.data(), &call->seed, 8);
  S.input = emu::Region(input.data(), in_bytes);
  S.outputs[0] = call->out_clean ? emu::Region(clean.data(), out_bytes) : emu::Region();
  S.outputs[1] = call->out_degraded ? emu::Region(degraded.data(), out_bytes) : emu::Region();

  emkit::DegradeArgs a;
  a.input = input.data();
  a.in_dtype = static_cast<emkit::InDType>(call->in_dtype);
  a.batch = call->batch;
  a.channels = call->channels;
  a.in_h = call->in_h;
  a.in_w = call->in_w;
  a.params = reinterpret_cast<const float*>(params.data());
  a.out_h = call->out_h;
  a.out_w = call->out_w;
  a.out_clean = call->out_clean ? clean.data() : nullptr;
  a.out_degraded = call->out_degraded ? degraded.data() : nullptr;
  a.out_dtype = static_cast<emkit::OutDType>(call->out_dtype);
  // As degrade_cuda_host_roundtrip: with a device seed the int seed is 0, so a kernel that
  // ignores seed_device draws visibly different noise.
  a.seed = call->seed_on_device ? 0 : call->seed;
  a.seed_device = call->seed_on_device ? reinterpret_cast<const int64_t*>(seed.data()) : nullptr;
  a.workspace = workspace.data();
  a.degrade_channels = call->degrade_channels;
  a.nearest_channels = call->nearest_channels;
  const char* err = emkit::degrade_dev::run(a, nullptr);
  call->blocks_run = S.blocks_run;
  call->barrier_phases = S.barrier_phases;
  if (err != nullptr) {
    std::snprintf(message, sizeof(message), "%s", err);
    return message;
  }
  const char* broken = nullptr;
  if (!input.guards_intact() || !params.guards_intact()) broken = "write into the input or params";
  if (call->out_clean && !clean.guards_intact()) broken = "write outside the clean output";
  if (call->out_degraded && !degraded.guards_intact()) broken = "write outside the degraded output";
  if (!workspace.guards_intact()) broken = "write outside the workspace";
  if (broken) return broken;
  if (call->out_clean) std::memcpy(call->out_clean, clean.data(), out_bytes);
  if (call->out_degraded) std::memcpy(call->out_degraded, degraded.data(), out_bytes);
  return nullptr;
}

}  // extern "C"
