// The host emulation's launcher and every CUDA module of src/main/cuda, for emulate.cpp's checks and for the
// server mode the Java tests drive (server.hpp). Each CUDA thread of a block runs on its own host thread (so
// __syncthreads is a real barrier between them); blocks run one after another, which is why the shim can make
// __shared__ a function-local static. The threads come from a pool that grows to the largest block launched,
// instead of being created for every block.
#pragma once
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "activation.cu"
#include "attention.cu"
#include "attention_tc.cu"
#include "elementwise.cu"
#include "embedding.cu"
#include "loss.cu"
#include "norm.cu"
#include "optim.cu"
#include "random.cu"
#include "rotary.cu"
#include "tensor.cu"

namespace emulation {

// Host threads standing for the CUDA threads of one block at a time.
class BlockPool {
public:
    ~BlockPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
            ++generation_;
        }
        wake_.notify_all();
        for (auto& w : workers_) w.join();
    }

    // Runs body on `threads` host threads, threadIdx.x = 0 .. threads - 1, and waits for all of them.
    void run(unsigned threads, const std::function<void()>& body) {
        std::unique_lock<std::mutex> lock(mutex_);
        while (workers_.size() < threads) {
            // A new worker starts from the current generation, so it takes part in the block set up below.
            const unsigned index = static_cast<unsigned>(workers_.size());
            const unsigned long long seen = generation_;
            workers_.emplace_back([this, index, seen] { work(index, seen); });
        }
        body_ = &body;
        active_ = threads;
        remaining_ = threads;
        ++generation_;
        wake_.notify_all();
        done_.wait(lock, [this] { return remaining_ == 0; });
        body_ = nullptr;
    }

private:
    void work(unsigned index, unsigned long long seen) {
        for (;;) {
            const std::function<void()>* body;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return generation_ != seen; });
                seen = generation_;
                if (stopping_) return;
                if (index >= active_) continue;
                body = body_;
            }
            threadIdx = dim3{index, 0, 0};
            (*body)();
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (--remaining_ == 0) done_.notify_one();
            }
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    unsigned long long generation_ = 0;
    unsigned active_ = 0, remaining_ = 0;
    bool stopping_ = false;
    const std::function<void()>* body_ = nullptr;
};

inline BlockPool& pool() {
    static BlockPool p;
    return p;
}

}  // namespace emulation

// Runs kernel(args...) on a grid of 1-D blocks of `threads`, with `sharedBytes` of dynamic shared memory.
template <typename K, typename... A>
static void launchShared(K kernel, dim3 grid, unsigned threads, size_t sharedBytes, A... args) {
    gridDim = grid;
    blockDim = dim3{threads, 1, 1};
    std::vector<unsigned char> smem;
    if (sharedBytes > 0) {  // else whatever buffer the caller set up stays (emulate.cpp's tensor-core cases)
        smem.resize(sharedBytes + 128);
        dynamicSmem = smem.data();
    }
    const std::function<void()> body = [&] { kernel(args...); };
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                blockIdx = dim3{x, y, z};
                blockBarrier = std::make_unique<std::barrier<>>(threads);
                emulation::pool().run(threads, body);
            }
}

template <typename K, typename... A>
static void launch(K kernel, dim3 grid, unsigned threads, A... args) {
    launchShared(kernel, grid, threads, 0, args...);
}
