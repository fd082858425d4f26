// raiseSmemLimit (native/smem_limit.cc) under concurrent launches, against a fake of the CUDA attribute calls:
// a fake launch fails when the kernel's current limit on its device is below what it asks for (as the driver
// does), and setAttribute is slow, so that racing callers overlap. Every launch must succeed, and each
// (kernel, device) must be set exactly once, to the opt-in maximum less the kernel's static shared memory.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "../../native/smem_limit.h"

using namespace sparse;

static std::mutex mu;
static std::map<std::pair<const void*, int>, int> limit;  // current attribute value
static std::map<std::pair<const void*, int>, int> sets;   // how many times it was set
static std::atomic<int> failedSets{0};
static thread_local int currentDevice = 0;
static const int kOptin[2] = {232448, 101376};

static cudaError_t fakeGetDevice(int* d) { *d = currentDevice; return cudaSuccess; }
static cudaError_t fakeOptin(int d, int* b) { *b = kOptin[d]; return cudaSuccess; }
static cudaError_t fakeStatic(const void* k, int* b) { *b = (int)(reinterpret_cast<uintptr_t>(k) & 0xff) * 16; return cudaSuccess; }
static cudaError_t fakeSet(const void* k, int bytes) {
  if (failedSets.fetch_add(1) == 0) return cudaErrorInvalidValue;  // the first attempt fails: it must be retried
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::lock_guard<std::mutex> lock(mu);
  limit[{k, currentDevice}] = bytes;
  sets[{k, currentDevice}]++;
  return cudaSuccess;
}
static bool fakeLaunch(const void* k, int bytes) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = limit.find({k, currentDevice});
  return bytes <= 48 * 1024 || (it != limit.end() && bytes <= it->second);
}

int main() {
  const SmemApi api{fakeGetDevice, fakeOptin, fakeStatic, fakeSet};
  const void* kernels[3] = {reinterpret_cast<const void*>(0x1010), reinterpret_cast<const void*>(0x2020), reinterpret_cast<const void*>(0x3030)};
  std::atomic<int> badLaunch{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; t++)
    threads.emplace_back([&, t] {
      currentDevice = t & 1;
      for (int n = 0; n < 50; n++) {
        const void* k = kernels[(t + n) % 3];
        const int want = 60000 + ((t * 7 + n) % 5) * 8000;  // request-dependent sizes, as head dims differ
        cudaError_t e = raiseSmemLimit(k, api);
        if (e != cudaSuccess) e = raiseSmemLimit(k, api);  // the fake's one failure: the next call retries
        if (e != cudaSuccess) errors++;
        else if (!fakeLaunch(k, want)) badLaunch++;
      }
    });
  for (auto& th : threads) th.join();
  int wrong = 0;
  for (auto& [key, count] : sets) {
    int fixed = 0;
    fakeStatic(key.first, &fixed);
    if (count != 1 || limit[key] != kOptin[key.second] - fixed) wrong++;
  }
  std::printf("pairs=%zu wrong=%d badLaunch=%d errors=%d\n", sets.size(), wrong, badLaunch.load(), errors.load());
  return (sets.size() == 6 && wrong == 0 && badLaunch == 0 && errors == 0) ? 0 : 1;
}
