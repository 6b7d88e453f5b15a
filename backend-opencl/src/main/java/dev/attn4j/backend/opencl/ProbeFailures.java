package dev.attn4j.backend.opencl;

/**
 * Turns what can go wrong while loading JOCL and its OpenCL loader into a human reason. Pure Java: it must
 * work when JOCL itself cannot be loaded.
 */
final class ProbeFailures {
    private ProbeFailures() {
    }

    /** A sentence saying why the OpenCL backend cannot run, for {@code probe()}. */
    static String describe(Throwable failure) {
        String message = String.valueOf(failure.getMessage());
        if (failure instanceof NoClassDefFoundError || failure instanceof ClassNotFoundException) {
            return "JOCL is not on the class path (" + message + ")";
        }
        if (failure instanceof UnsatisfiedLinkError) {
            if (message.contains("OpenCL")) {
                return "libOpenCL not found: install an OpenCL ICD loader and a driver, e.g. ocl-icd-libopencl1 "
                        + "and pocl-opencl-icd (" + message + ")";
            }
            return "the JOCL native library could not be loaded (" + message + ")";
        }
        if (failure instanceof ExceptionInInitializerError e && e.getCause() != null) {
            return describe(e.getCause());
        }
        if (message.contains("CL_PLATFORM_NOT_FOUND_KHR")) {
            return "no OpenCL platform: the ICD loader found no driver (CL_PLATFORM_NOT_FOUND_KHR); "
                    + "install one, e.g. pocl-opencl-icd";
        }
        if (message.contains("CL_DEVICE_NOT_FOUND")) {
            return "no OpenCL device on any platform (CL_DEVICE_NOT_FOUND)";
        }
        return "OpenCL failed while probing: " + failure.getClass().getSimpleName() + ": " + message;
    }
}
