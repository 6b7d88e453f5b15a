package dev.attn4j.backend.opencl;

import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.util.Locale;

/**
 * One OpenCL device and what its kernels need to know of it.
 *
 * @param index             position in the discovery order (the {@code device} option's index)
 * @param platform          its platform
 * @param id                the device
 * @param platformName      platform name
 * @param name              device name
 * @param type              "GPU", "CPU", "ACCELERATOR" or "OTHER"
 * @param version           OpenCL version string
 * @param computeUnits      compute units
 * @param maxWorkGroupSize  largest work-group
 * @param localMemBytes     local memory per work-group
 * @param globalMemBytes    global memory
 * @param fp16              whether cl_khr_fp16 is reported
 * @param fp64              whether cl_khr_fp64 is reported
 * @param exactDivideSqrt   whether fp32 divide and sqrt can be built correctly rounded
 *                          ({@code CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT})
 * @param baseAlignBytes    {@code CL_DEVICE_MEM_BASE_ADDR_ALIGN} in bytes: the alignment of a sub-buffer's origin
 */
record ClDevice(int index, cl_platform_id platform, cl_device_id id, String platformName, String name, String type,
                String version, int computeUnits, long maxWorkGroupSize, long localMemBytes, long globalMemBytes,
                boolean fp16, boolean fp64, boolean exactDivideSqrt, int baseAlignBytes) {

    /** Whether the device is a CPU (POCL, Intel's CPU runtime): kernels pick their CPU-shaped variants. */
    boolean isCpu() {
        return "CPU".equals(type);
    }

    /** One line for {@code devices()} and {@code probe()}. */
    String describe() {
        return String.format(Locale.ROOT,
                "opencl:%d %s / %s (%s, %s, %d compute units, work-group <= %d, local mem %d KiB, global mem %d MiB, "
                        + "fp16 %s, fp64 %s)",
                index, platformName, name, type, version, computeUnits, maxWorkGroupSize, localMemBytes / 1024,
                globalMemBytes / (1024 * 1024), fp16 ? "yes" : "no", fp64 ? "yes" : "no");
    }
}
