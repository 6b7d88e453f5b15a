package dev.attn4j.backend.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A {@link Gpu} that runs nothing and records every launch and GEMM, for checks of what the engine would issue
 * (argument types against the PTX, launch bounds, grid limits, pointers into live allocations) on a machine without
 * a GPU or a compiler. Memory is fake: copies in are dropped, copies out leave the host array as it was (zeros).
 */
final class RecordingGpu implements Gpu {

    /** One launch as the engine issued it. */
    record Launch(String kernel, int sharedBytes, int gridX, int gridY, int gridZ, int threads, List<Object> args) {
    }

    /** A fake allocation of {@code bytes}. */
    record Allocation(long bytes) {
    }

    final List<Launch> launches = new ArrayList<>();
    final List<GemmCall> gemms = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    private final Set<Allocation> live = Collections.newSetFromMap(new IdentityHashMap<>());

    @Override
    public String describe() {
        return "recording";
    }

    @Override
    public void makeCurrent() {
    }

    @Override
    public DevicePointer allocate(long bytes) {
        if (bytes <= 0) {
            problems.add("allocation of " + bytes + " bytes");
        }
        Allocation a = new Allocation(bytes);
        live.add(a);
        return new DevicePointer(a, 0);
    }

    @Override
    public void free(DevicePointer allocation) {
        if (allocation.byteOffset() != 0 || !live.remove((Allocation) allocation.allocation())) {
            problems.add("free of " + allocation + ", not a live allocation's start");
        }
    }

    /** Records a problem unless {@code bytes} from {@code p} lie inside a live allocation. */
    void requireInside(DevicePointer p, long bytes, String what) {
        if (p.isNull()) {
            return;
        }
        if (!(p.allocation() instanceof Allocation a) || !live.contains(a) || p.byteOffset() + bytes > a.bytes()) {
            problems.add(what + ": " + bytes + " bytes at " + p + " outside a live allocation");
        }
    }

    /** {@return allocations not yet freed} */
    int liveAllocations() {
        return live.size();
    }

    @Override
    public void memset(DevicePointer at, int elementBytes, int value, long count) {
        requireInside(at, count * elementBytes, "memset");
    }

    @Override
    public void copyIn(DevicePointer to, Object hostArray, long bytes) {
        requireInside(to, bytes, "copyIn");
    }

    @Override
    public void copyOut(Object hostArray, DevicePointer from, long bytes) {
        requireInside(from, bytes, "copyOut");
    }

    @Override
    public void launch(String kernel, int sharedBytes, int gridX, int gridY, int gridZ, int threads, Object... args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof DevicePointer p) {
                requireInside(p, 1, kernel + " argument " + i);
            }
        }
        launches.add(new Launch(kernel, sharedBytes, gridX, gridY, gridZ, threads, List.of(args)));
    }

    @Override
    public String blasProblem() {
        return null;
    }

    @Override
    public void gemm(GemmCall call) {
        long[] extents = HostGemm.extents(call);
        requireInside(call.a(), extents[0] * call.abType().byteSize(), "GEMM A");
        requireInside(call.b(), extents[1] * call.abType().byteSize(), "GEMM B");
        requireInside(call.c(), extents[2] * call.cType().byteSize(), "GEMM C");
        gemms.add(call);
    }

    @Override
    public void synchronize(String what) {
    }

    @Override
    public int sharedMemoryOptIn() {
        return 227 * 1024;
    }

    @Override
    public void setMaxDynamicSharedMemory(String kernel, int bytes) {
    }

    @Override
    public void close() {
    }
}
