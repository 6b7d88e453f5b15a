package dev.attn4j.backend.opencl;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.DeviceKind;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import static org.jocl.CL.*;

/**
 * Discovers OpenCL devices. The first class to touch {@link CL}: loading it loads the JOCL natives and the
 * OpenCL ICD loader, which is why the provider only reaches it from {@code probe()} and {@code open()}.
 */
final class Devices {
    private Devices() {
    }

    /**
     * The provider's probe: every device found, and the kind of the one {@code open} would pick with the
     * {@code device} option {@code choice} (its system property); or why there is none.
     */
    static Availability probe(String choice) {
        List<ClDevice> all = discover();
        if (all.isEmpty()) {
            return Availability.unavailable("OpenCL platforms found, but no device on any of them");
        }
        boolean named = choice != null && !choice.isBlank();
        ClDevice opened;
        String note = "";
        try {
            opened = select(all, choice);
        } catch (InvalidRequestException e) {
            // open() will reject the option with this error; the probe only says so and ranks the default
            opened = preferred(all);
            named = false;
            note = " (the device option matches nothing: " + e.getMessage() + ")";
        }
        return Availability.available(all.size() + " OpenCL device(s); " + (named ? "chosen " : "default ")
                        + opened.describe() + note, all.stream().map(ClDevice::describe).toList(),
                kindOf(opened.type()));
    }

    /**
     * What a device of this {@code CL_DEVICE_TYPE} runs on: an OpenCL CPU device (POCL, Intel's CPU runtime) is
     * the host's own processor reached through the driver, which default selection ranks below native code.
     */
    static DeviceKind kindOf(String type) {
        return switch (type) {
            case "GPU" -> DeviceKind.GPU;
            case "ACCELERATOR" -> DeviceKind.ACCELERATOR;
            case "CPU" -> DeviceKind.HOST_DEVICE;
            default -> DeviceKind.UNKNOWN;
        };
    }

    /** Every device of every platform, in platform order. Throws CLException when there is no platform. */
    static List<ClDevice> discover() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<ClDevice> found = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            int[] n = new int[1];
            try {
                clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, n);
            } catch (CLException e) {
                if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                    continue;
                }
                throw e;
            }
            cl_device_id[] ids = new cl_device_id[n[0]];
            clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
            String platformName = platformString(platform, CL_PLATFORM_NAME);
            for (cl_device_id id : ids) {
                found.add(describe(found.size(), platform, platformName, id));
            }
        }
        return found;
    }

    /**
     * The device the {@code device} option names (an index, or a name substring), or the preferred one.
     *
     * @throws InvalidRequestException naming the option when nothing matches
     */
    static ClDevice select(List<ClDevice> all, String choice) {
        if (choice == null || choice.isBlank()) {
            return preferred(all);
        }
        String c = choice.trim();
        if (c.chars().allMatch(Character::isDigit)) {
            int index = Integer.parseInt(c);
            InvalidRequestException.check(index < all.size(), "device", "an index below " + all.size(), index);
            return all.get(index);
        }
        String needle = c.toLowerCase(Locale.ROOT);
        return all.stream()
                .filter(d -> (d.name() + " " + d.platformName()).toLowerCase(Locale.ROOT).contains(needle))
                .findFirst()
                .orElseThrow(() -> new InvalidRequestException("device",
                        "an index or a substring of one of " + all.stream().map(ClDevice::name).toList(), c));
    }

    /** GPU before accelerator before anything else; discovery order among equals. */
    static ClDevice preferred(List<ClDevice> all) {
        return all.stream().min(Comparator.comparingInt(d -> switch (d.type()) {
            case "GPU" -> 0;
            case "ACCELERATOR" -> 1;
            default -> 2;
        })).orElseThrow();
    }

    private static ClDevice describe(int index, cl_platform_id platform, String platformName, cl_device_id id) {
        long type = deviceLong(id, CL_DEVICE_TYPE);
        String typeName = (type & CL_DEVICE_TYPE_GPU) != 0 ? "GPU"
                : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "ACCELERATOR"
                : (type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU" : "OTHER";
        String extensions = deviceString(id, CL_DEVICE_EXTENSIONS);
        int[] units = new int[1];
        clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, Sizeof.cl_uint, Pointer.to(units), null);
        return new ClDevice(index, platform, id, platformName, deviceString(id, CL_DEVICE_NAME).trim(), typeName,
                deviceString(id, CL_DEVICE_VERSION).trim(), units[0], deviceSize(id, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                deviceLong(id, CL_DEVICE_LOCAL_MEM_SIZE), deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE),
                extensions.contains("cl_khr_fp16"), extensions.contains("cl_khr_fp64"),
                (deviceLong(id, CL_DEVICE_SINGLE_FP_CONFIG) & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0,
                Math.max(1, deviceInt(id, CL_DEVICE_MEM_BASE_ADDR_ALIGN) / 8));
    }

    private static long deviceLong(cl_device_id id, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(id, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    private static int deviceInt(cl_device_id id, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(id, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    private static long deviceSize(cl_device_id id, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(id, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    private static String deviceString(cl_device_id id, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(id, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetDeviceInfo(id, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    private static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(platform, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes).trim();
    }

    private static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }
}
