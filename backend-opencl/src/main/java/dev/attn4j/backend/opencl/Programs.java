package dev.attn4j.backend.opencl;

import dev.attn4j.ports.DeviceException;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.jocl.CL.*;

/**
 * Builds the OpenCL C sources kept as resources next to this class (a source named {@code a.cl+b.cl} is the two
 * concatenated, so helpers such as {@code philox.cl} are shared without OpenCL 1.2's separate linking), once per (source, build options) for
 * the engine's device, and hands out their kernels, also once each. Not thread-safe: the engine's lock
 * guards it. A failed build reports the compiler's log.
 */
final class Programs implements AutoCloseable {
    private final cl_context context;
    private final cl_device_id device;
    private final Map<String, cl_program> programs = new HashMap<>();
    private final Map<String, cl_kernel> kernels = new HashMap<>();

    Programs(cl_context context, cl_device_id device) {
        this.context = context;
        this.device = device;
    }

    /** Kernel {@code name} of resource {@code source} built with {@code options}. */
    cl_kernel kernel(String source, String options, String name) {
        String programKey = source + " " + options;
        String kernelKey = programKey + " #" + name;
        cl_kernel k = kernels.get(kernelKey);
        if (k == null) {
            k = clCreateKernel(program(programKey, source, options), name, null);
            kernels.put(kernelKey, k);
        }
        return k;
    }

    /** Programs built so far (for leak tests). */
    int programCount() {
        return programs.size();
    }

    /** Kernels created so far (for leak tests). */
    int kernelCount() {
        return kernels.size();
    }

    private cl_program program(String key, String source, String options) {
        cl_program p = programs.get(key);
        if (p != null) {
            return p;
        }
        p = clCreateProgramWithSource(context, 1, new String[] {read(source)}, null, null);
        try {
            clBuildProgram(p, 1, new cl_device_id[] {device}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p);
            clReleaseProgram(p);
            throw new DeviceException(OpenClBackendProvider.NAME, org.jocl.CL.stringFor_errorCode(e.getStatus()),
                    "building " + source + " with '" + options + "' failed; build log:\n" + log);
        }
        programs.put(key, p);
        return p;
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] bytes = new byte[(int) size[0]];
            clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, bytes.length, Pointer.to(bytes), null);
            return new String(bytes, StandardCharsets.UTF_8).trim();
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    /** The resource, or several joined by {@code +} (shared helpers first), concatenated in order. */
    private static String read(String source) {
        StringBuilder text = new StringBuilder();
        for (String part : source.split("\\+")) {
            text.append(readOne(part)).append('\n');
        }
        return text.toString();
    }

    private static String readOne(String source) {
        try (InputStream in = Programs.class.getResourceAsStream(source)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + source + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Releases every kernel, then every program. */
    @Override
    public void close() {
        for (cl_kernel k : kernels.values()) {
            clReleaseKernel(k);
        }
        kernels.clear();
        for (cl_program p : programs.values()) {
            clReleaseProgram(p);
        }
        programs.clear();
    }
}
