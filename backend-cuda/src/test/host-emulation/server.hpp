// Server mode of the host emulation (`emulate serve`): a stand-in CUDA device driven over stdin/stdout by the Java
// tests' EmulatedGpu, so that the cuda engine's own Java code — allocations, offsets, launch sequences, grid sizes
// and argument lists — runs against the real kernels on the host.
//
// Protocol (little-endian): a request is a u32 opcode and its operands; every reply starts with a u32 status, 0 for
// success, else followed by a u32 length and an error message.
//   1 ALLOC  u64 bytes                                   -> u64 address (a host address: kernels dereference it)
//   2 FREE   u64 address
//   3 WRITE  u64 address, u64 bytes, the bytes
//   4 READ   u64 address, u64 bytes                      -> the bytes
//   5 MEMSET u64 address, u32 element bytes, u32 value, u64 count
//   6 LAUNCH u32 name length, name, u32 shared bytes, u32 gridX, gridY, gridZ, threads, u32 argument count, then
//            per argument a u8 type ('P' pointer, 'I' 32-bit integer, 'L' 64-bit integer, 'F' float) and a u64
//   7 QUIT
// A launch is refused unless the kernel exists and its C++ parameter list has exactly the types sent (the check
// KernelArgumentsTest makes against the PTX, here against the source itself); every pointer argument must lie in
// a live allocation, and every write, read and memset must stay inside one. Built with AddressSanitizer (run.sh),
// any out-of-bounds access a kernel makes aborts the server with a report.
#pragma once
#include <cstdint>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <unordered_map>

namespace emulation {

template <typename T>
constexpr char typeCode() {
    if constexpr (std::is_pointer_v<T>) return 'P';
    else if constexpr (std::is_same_v<T, float>) return 'F';
    else if constexpr (std::is_integral_v<T> && sizeof(T) == 4) return 'I';
    else if constexpr (std::is_integral_v<T> && sizeof(T) == 8) return 'L';
    else return '?';
}

template <typename T>
T decode(uint64_t raw) {
    if constexpr (std::is_pointer_v<T>) return reinterpret_cast<T>(static_cast<uintptr_t>(raw));
    else if constexpr (std::is_same_v<T, float>) {
        const uint32_t bits = static_cast<uint32_t>(raw);
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    } else if constexpr (sizeof(T) == 4) return static_cast<T>(static_cast<uint32_t>(raw));
    else return static_cast<T>(raw);
}

struct Kernel {
    std::string types;
    std::function<void(const std::vector<uint64_t>&, dim3, unsigned, size_t)> run;
};

template <typename... A>
Kernel makeKernel(void (*f)(A...)) {
    Kernel k;
    k.types = std::string{typeCode<A>()...};
    k.run = [f](const std::vector<uint64_t>& raw, dim3 grid, unsigned threads, size_t shared) {
        std::tuple<A...> args = [&]<size_t... I>(std::index_sequence<I...>) {
            return std::tuple<A...>{decode<A>(raw[I])...};
        }(std::index_sequence_for<A...>{});
        std::apply([&](A... a) { launchShared(f, grid, threads, shared, a...); }, args);
    };
    return k;
}

inline const std::unordered_map<std::string, Kernel>& kernels() {
    static const std::unordered_map<std::string, Kernel> table = [] {
        std::unordered_map<std::string, Kernel> t;
#define ATTN4J_KERNEL(name) t.emplace(#name, makeKernel(name));
#include "kernels.inc"
#undef ATTN4J_KERNEL
        return t;
    }();
    return table;
}

class Server {
public:
    int serve() {
        std::ios::sync_with_stdio(false);
        for (;;) {
            uint32_t op;
            if (!read(op)) return 0;  // the client went away
            try {
                switch (op) {
                    case 1: alloc(); break;
                    case 2: freeMemory(); break;
                    case 3: write(); break;
                    case 4: readMemory(); break;
                    case 5: memset(); break;
                    case 6: launch(); break;
                    case 7: ok(); flush(); return 0;
                    default: throw std::runtime_error("unknown opcode " + std::to_string(op));
                }
            } catch (const std::exception& e) {
                fail(e.what());
            }
            flush();
        }
    }

private:
    std::map<uint64_t, uint64_t> live_;  // address -> bytes

    template <typename T>
    bool read(T& v) {
        return static_cast<bool>(std::cin.read(reinterpret_cast<char*>(&v), sizeof v));
    }
    template <typename T>
    T take() {
        T v{};
        if (!read(v)) throw std::runtime_error("truncated request");
        return v;
    }
    template <typename T>
    void put(const T& v) {
        std::cout.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
    void ok() { put(uint32_t{0}); }
    void fail(const std::string& message) {
        put(uint32_t{1});
        put(static_cast<uint32_t>(message.size()));
        std::cout.write(message.data(), static_cast<std::streamsize>(message.size()));
    }
    void flush() { std::cout.flush(); }

    // The allocation holding [address, address + bytes); throws if none does.
    void requireInside(uint64_t address, uint64_t bytes, const char* what) {
        auto it = live_.upper_bound(address);
        if (it != live_.begin()) {
            --it;
            if (address >= it->first && address + bytes <= it->first + it->second) return;
        }
        throw std::runtime_error(std::string(what) + ": [" + std::to_string(address) + ", +" + std::to_string(bytes)
                                 + ") is not inside a live allocation");
    }

    void alloc() {
        const uint64_t bytes = take<uint64_t>();
        if (bytes == 0) throw std::runtime_error("ALLOC of 0 bytes (cuMemAlloc rejects it)");
        // Filled with a NaN-ish pattern, not zeros: an output some kernel forgets to write shows up.
        auto* p = static_cast<unsigned char*>(std::malloc(bytes));
        if (p == nullptr) throw std::runtime_error("out of host memory");
        std::memset(p, 0xFF, bytes);
        live_[reinterpret_cast<uintptr_t>(p)] = bytes;
        ok();
        put(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
    }

    void freeMemory() {
        const uint64_t address = take<uint64_t>();
        auto it = live_.find(address);
        if (it == live_.end()) throw std::runtime_error("FREE of an address that is not an allocation");
        std::free(reinterpret_cast<void*>(static_cast<uintptr_t>(address)));
        live_.erase(it);
        ok();
    }

    void write() {
        const uint64_t address = take<uint64_t>();
        const uint64_t bytes = take<uint64_t>();
        std::vector<char> data(bytes);
        if (!std::cin.read(data.data(), static_cast<std::streamsize>(bytes))) throw std::runtime_error("truncated WRITE");
        requireInside(address, bytes, "WRITE");
        std::memcpy(reinterpret_cast<void*>(static_cast<uintptr_t>(address)), data.data(), bytes);
        ok();
    }

    void readMemory() {
        const uint64_t address = take<uint64_t>();
        const uint64_t bytes = take<uint64_t>();
        requireInside(address, bytes, "READ");
        ok();
        std::cout.write(reinterpret_cast<const char*>(static_cast<uintptr_t>(address)), static_cast<std::streamsize>(bytes));
    }

    void memset() {
        const uint64_t address = take<uint64_t>();
        const uint32_t width = take<uint32_t>();
        const uint32_t value = take<uint32_t>();
        const uint64_t count = take<uint64_t>();
        if (width != 1 && width != 2 && width != 4) throw std::runtime_error("MEMSET of " + std::to_string(width) + "-byte elements");
        if (address % width != 0) throw std::runtime_error("MEMSET address not aligned to its elements");
        requireInside(address, count * width, "MEMSET");
        auto* p = reinterpret_cast<unsigned char*>(static_cast<uintptr_t>(address));
        for (uint64_t i = 0; i < count; ++i) std::memcpy(p + i * width, &value, width);
        ok();
    }

    void launch() {
        const uint32_t length = take<uint32_t>();
        std::string name(length, '\0');
        if (!std::cin.read(name.data(), length)) throw std::runtime_error("truncated LAUNCH");
        const uint32_t shared = take<uint32_t>();
        dim3 grid{take<uint32_t>(), take<uint32_t>(), take<uint32_t>()};
        const uint32_t threads = take<uint32_t>();
        const uint32_t count = take<uint32_t>();
        std::string types;
        std::vector<uint64_t> raw;
        for (uint32_t i = 0; i < count; ++i) {
            types.push_back(static_cast<char>(take<uint8_t>()));
            raw.push_back(take<uint64_t>());
        }
        auto it = kernels().find(name);
        if (it == kernels().end()) throw std::runtime_error("no kernel " + name);
        if (it->second.types != types)
            throw std::runtime_error(name + " takes (" + it->second.types + "), the launch passed (" + types + ")");
        if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535)
            throw std::runtime_error(name + ": grid (" + std::to_string(grid.x) + ", " + std::to_string(grid.y) + ", "
                                     + std::to_string(grid.z) + ") outside CUDA's limits");
        if (threads == 0 || threads > 1024) throw std::runtime_error(name + ": " + std::to_string(threads) + " threads per block");
        for (uint32_t i = 0; i < count; ++i) {
            if (types[i] == 'P' && raw[i] != 0) requireInside(raw[i], 1, (name + " pointer argument " + std::to_string(i)).c_str());
        }
        it->second.run(raw, grid, threads, shared);
        ok();
    }
};

}  // namespace emulation
