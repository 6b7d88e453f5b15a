package dev.attn4j.backend.cuda;

import dev.attn4j.ports.DeviceException;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The PTX modules of {@link KernelCatalog}, loaded into a context with {@code cuModuleLoadData} (the
 * driver JIT-compiles them for the device), and a launcher for their kernels.
 */
final class Kernels implements AutoCloseable {
    private final List<CUmodule> modules;
    private final Map<String, CUfunction> functions;

    private Kernels(List<CUmodule> modules, Map<String, CUfunction> functions) {
        this.modules = modules;
        this.functions = functions;
    }

    /** Loads every module into the current context and looks up every kernel the catalog names. */
    static Kernels load(Context context) {
        context.makeCurrent();
        List<CUmodule> modules = new ArrayList<>();
        Map<String, CUfunction> functions = new HashMap<>();
        Kernels kernels = new Kernels(modules, functions);
        try {
            for (String name : KernelCatalog.modules()) {
                String ptx = KernelCatalog.ptx(name).orElseThrow(() -> new DeviceException(Driver.NAME,
                        "CUDA_ERROR_FILE_NOT_FOUND", CudaBackendProvider.NO_KERNELS + ": " + name + ".ptx"));
                byte[] text = ptx.getBytes(StandardCharsets.US_ASCII);
                byte[] image = Arrays.copyOf(text, text.length + 1);  // the driver reads a NUL-terminated string
                CUmodule module = new CUmodule();
                Driver.check(JCudaDriver.cuModuleLoadData(module, image), "cuModuleLoadData " + name + ".ptx");
                modules.add(module);
                for (String entry : KernelCatalog.entries(name)) {
                    CUfunction function = new CUfunction();
                    Driver.check(JCudaDriver.cuModuleGetFunction(function, module, entry), "cuModuleGetFunction " + entry);
                    functions.put(entry, function);
                }
            }
            return kernels;
        } catch (RuntimeException e) {
            kernels.close();
            throw e;
        }
    }

    /**
     * Launches {@code name} on a {@code grid} of 1-D blocks of {@code threads}. Arguments are
     * {@link DevicePointer}s, {@link Integer}s, {@link Long}s and {@link Float}s, in the kernel's order.
     */
    void launch(String name, int gridX, int gridY, int gridZ, int threads, Object... args) {
        launchWithSharedMemory(name, 0, gridX, gridY, gridZ, threads, args);
    }

    /** As {@link #launch}, with {@code sharedBytes} of dynamic shared memory per block. */
    void launchWithSharedMemory(String name, int sharedBytes, int gridX, int gridY, int gridZ, int threads, Object... args) {
        CUfunction function = function(name);
        if (function == null) {
            throw new IllegalStateException("kernel " + name + " is not in the catalog");
        }
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case DevicePointer p -> Pointer.to(CudaGpu.cu(p));
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("kernel argument " + i + " of " + name + ": " + args[i]);
            };
        }
        Driver.check(JCudaDriver.cuLaunchKernel(function, gridX, gridY, gridZ, threads, 1, 1, sharedBytes, null,
                Pointer.to(params), null), "launching " + name + " grid (" + gridX + ", " + gridY + ", " + gridZ + ")");
    }

    /** The loaded kernel {@code name}. */
    CUfunction function(String name) {
        CUfunction function = functions.get(name);
        if (function == null) {
            throw new IllegalStateException("kernel " + name + " is not in the catalog");
        }
        return function;
    }

    @Override
    public void close() {
        for (CUmodule module : modules) {
            JCudaDriver.cuModuleUnload(module);
        }
        modules.clear();
        functions.clear();
    }
}
