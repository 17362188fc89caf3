// A small blocking thread pool for CPU kernels that run many independent items.
//
// Why not OpenMP here: libgomp worker threads spin-wait after each parallel region and
// compete with torch's own (separate) OpenMP pool for the same cores, and a libgomp pool
// used before fork() is unusable in the child (DataLoader workers fork). These workers
// sleep on a condition variable between calls, and a forked child starts a fresh pool.
#pragma once

#include <cstdint>
#include <functional>

namespace emkit {

// Calls fn(item, worker) for every item in [0, n), on up to `threads` threads (the caller
// is worker 0; worker ids are < threads). Items are handed out dynamically. Returns when
// all items are done. Calls from several threads at once run one after the other.
void parallel_items(int64_t n, int threads, const std::function<void(int64_t, int)>& fn);

}  // namespace emkit
