package dev.attn4j.backend.cuda;

import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.DeviceKind;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The first class that touches JCuda: loading it is cheap, but its first call loads JCuda's native driver
 * library, which throws {@link UnsatisfiedLinkError} where {@code libcuda.so.1} is missing. Only the
 * provider's {@code probe} and {@code open} reach it, inside a {@code catch (LinkageError)}.
 */
final class Driver {
    /** The backend's name. */
    static final String NAME = CudaBackendProvider.NAME;

    private Driver() {
    }

    /** Throws a {@link DeviceException} carrying the CUDA error name unless {@code result} is success. */
    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new DeviceException(NAME, CUresult.stringFor(result), what);
        }
    }

    /** Whether the driver, a device and the kernels are here; loads the kernels on device 0 to prove it. */
    static Availability probe() {
        int init = JCudaDriver.cuInit(0);
        if (init != CUresult.CUDA_SUCCESS) {
            return Availability.unavailable(CUresult.stringFor(init) + " (cuInit failed: "
                    + (init == CUresult.CUDA_ERROR_NO_DEVICE ? "the driver found no CUDA device)" : "no usable CUDA driver or device)"));
        }
        int[] count = new int[1];
        check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            return Availability.unavailable("CUDA_ERROR_NO_DEVICE (the driver found no CUDA device)");
        }
        if (!KernelCatalog.built()) {
            return Availability.unavailable(CudaBackendProvider.NO_KERNELS);
        }
        List<String> devices = new ArrayList<>();
        for (int i = 0; i < count[0]; i++) {
            devices.add(describe(i));
        }
        try (Context context = Context.open(0); Kernels ignored = Kernels.load(context)) {
            // loading JIT-compiles the PTX: a driver too old for its PTX ISA fails here, not at first use
        } catch (DeviceException e) {
            return Availability.unavailable("the CUDA driver cannot load the kernels: " + e.getMessage());
        }
        int[] version = new int[1];
        check(JCudaDriver.cuDriverGetVersion(version), "cuDriverGetVersion");
        return Availability.available(String.format(Locale.ROOT, "CUDA driver %d.%d, %d device(s), kernels loaded",
                version[0] / 1000, version[0] % 1000 / 10, count[0]), devices, DeviceKind.GPU);
    }

    /** {@code cuda:0 NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB}. */
    static String describe(int ordinal) {
        CUdevice device = new CUdevice();
        check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet " + ordinal);
        byte[] name = new byte[256];
        check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        long[] memory = new long[1];
        check(JCudaDriver.cuDeviceTotalMem(memory, device), "cuDeviceTotalMem");
        return String.format(Locale.ROOT, "cuda:%d %s, sm_%d%d, %.1f GiB", ordinal,
                new String(name, 0, length, StandardCharsets.UTF_8),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                memory[0] / (1024.0 * 1024 * 1024));
    }

    /** A {@code CUdevice_attribute} of device {@code ordinal}. */
    static int deviceAttribute(int ordinal, int attribute) {
        CUdevice device = new CUdevice();
        check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet " + ordinal);
        return attribute(device, attribute);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute " + attribute);
        return value[0];
    }
}
