package dev.attn4j.backend.cuda;

import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.tensor.DType;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Gpu} backed by the host emulation's server ({@code emulate serve}, src/test/host-emulation/server.hpp):
 * memory is host memory of that process, launches run the real kernels there (each CUDA thread a host thread), and
 * GEMMs run here through {@link HostGemm} in fp32 on the operands read back. The engine's Java code — allocation,
 * views and offsets, launch sequences, grid sizes, argument lists, GEMM plans — runs unchanged on top, so the
 * conformance suite can check the whole backend on a machine without a GPU. It checks indexing and arithmetic, not
 * the GPU's memory model, nor cuBLAS itself.
 */
final class EmulatedGpu implements Gpu {
    private static final int ALLOC = 1;
    private static final int FREE = 2;
    private static final int WRITE = 3;
    private static final int READ = 4;
    private static final int MEMSET = 5;
    private static final int LAUNCH = 6;
    private static final int QUIT = 7;

    private final Process process;
    private final DataInputStream in;
    private final OutputStream out;
    private final Path log;
    private boolean closed;

    private EmulatedGpu(Process process, Path log) {
        this.process = process;
        this.in = new DataInputStream(new BufferedInputStream(process.getInputStream(), 1 << 16));
        this.out = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
        this.log = log;
    }

    /** Starts a server from the built {@code binary}; its stderr (sanitizer reports) goes to a file beside it. */
    static EmulatedGpu start(Path binary) {
        try {
            Path log = Files.createTempFile(binary.getParent(), "serve-", ".log");
            Process p = new ProcessBuilder(binary.toString(), "serve").redirectError(log.toFile()).start();
            return new EmulatedGpu(p, log);
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + binary, e);
        }
    }

    private static long address(DevicePointer p) {
        return p.isNull() ? 0 : (Long) p.allocation() + p.byteOffset();
    }

    private ByteBuffer request(int op, int operandBytes) {
        ByteBuffer b = ByteBuffer.allocate(4 + operandBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(op);
        return b;
    }

    /** Sends {@code request} (and {@code payload}), reads the status; throws the server's error. */
    private synchronized void exchange(ByteBuffer request, byte[] payload, String what) {
        try {
            out.write(request.array(), 0, request.position());
            if (payload != null) {
                out.write(payload);
            }
            out.flush();
            int status = Integer.reverseBytes(in.readInt());
            if (status != 0) {
                int length = Integer.reverseBytes(in.readInt());
                byte[] message = in.readNBytes(length);
                throw new DeviceException(Driver.NAME, "EMULATION", what + ": " + new String(message, StandardCharsets.UTF_8));
            }
        } catch (EOFException e) {
            throw new DeviceException(Driver.NAME, "EMULATION", what + ": the emulator died: " + tail());
        } catch (IOException e) {
            throw new DeviceException(Driver.NAME, "EMULATION", what + ": " + e + " " + tail());
        }
    }

    private String tail() {
        try {
            String text = Files.readString(log);
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public String describe() {
        return "cuda:emulated host emulation of the kernels (no GPU), GEMMs by a host reference";
    }

    @Override
    public void makeCurrent() {
    }

    @Override
    public synchronized DevicePointer allocate(long bytes) {
        ByteBuffer b = request(ALLOC, 8).putLong(bytes);
        exchange(b, null, "ALLOC " + bytes);
        try {
            return new DevicePointer(Long.reverseBytes(in.readLong()), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void free(DevicePointer allocation) {
        if (allocation.byteOffset() != 0) {
            throw new AssertionError("freeing an offset pointer " + allocation);
        }
        exchange(request(FREE, 8).putLong(address(allocation)), null, "FREE");
    }

    @Override
    public void memset(DevicePointer at, int elementBytes, int value, long count) {
        exchange(request(MEMSET, 24).putLong(address(at)).putInt(elementBytes).putInt(value).putLong(count), null,
                "MEMSET");
    }

    @Override
    public void copyIn(DevicePointer to, Object hostArray, long bytes) {
        byte[] data = toBytes(hostArray);
        if (data.length != bytes) {
            throw new AssertionError("copyIn of " + bytes + " bytes from an array of " + data.length);
        }
        exchange(request(WRITE, 16).putLong(address(to)).putLong(bytes), data, "WRITE");
    }

    @Override
    public synchronized void copyOut(Object hostArray, DevicePointer from, long bytes) {
        fromBytes(read(address(from), bytes), hostArray);
    }

    private synchronized byte[] read(long address, long bytes) {
        exchange(request(READ, 16).putLong(address).putLong(bytes), null, "READ");
        try {
            return in.readNBytes(Math.toIntExact(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void launch(String kernel, int sharedBytes, int gridX, int gridY, int gridZ, int threads, Object... args) {
        byte[] name = kernel.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = request(LAUNCH, 4 + name.length + 24 + args.length * 9);
        b.putInt(name.length).put(name).putInt(sharedBytes).putInt(gridX).putInt(gridY).putInt(gridZ).putInt(threads)
                .putInt(args.length);
        for (Object a : args) {
            switch (a) {
                case DevicePointer p -> b.put((byte) 'P').putLong(address(p));
                case Integer v -> b.put((byte) 'I').putLong(v & 0xFFFFFFFFL);
                case Long v -> b.put((byte) 'L').putLong(v);
                case Float v -> b.put((byte) 'F').putLong(Float.floatToRawIntBits(v) & 0xFFFFFFFFL);
                default -> throw new IllegalArgumentException("kernel argument of " + kernel + ": " + a);
            }
        }
        exchange(b, null, "launching " + kernel);
    }

    @Override
    public String blasProblem() {
        return null;
    }

    /** Reads the operands back, replays the call in fp32 ({@link HostGemm.Arithmetic#FLOAT32}) and writes C. */
    @Override
    public synchronized void gemm(GemmCall g) {
        long[] extents = HostGemm.extents(g);
        double[] a = elements(read(address(g.a()), extents[0] * g.abType().byteSize()), g.abType());
        double[] b = elements(read(address(g.b()), extents[1] * g.abType().byteSize()), g.abType());
        double[] c = g.beta() == 0 ? new double[Math.toIntExact(extents[2])]
                : elements(read(address(g.c()), extents[2] * g.cType().byteSize()), g.cType());
        DevicePointer la = new DevicePointer("A", 0);
        DevicePointer lb = new DevicePointer("B", 0);
        DevicePointer lc = new DevicePointer("C", 0);
        Map<Object, double[]> local = Map.of("A", a, "B", b, "C", c);
        GemmCall here = new GemmCall(g.transA(), g.transB(), g.m(), g.n(), g.k(), g.alpha(), la, g.lda(), g.strideA(), lb,
                g.ldb(), g.strideB(), g.beta(), lc, g.ldc(), g.strideC(), g.batch(), g.abType(), g.cType());
        HostGemm.run(here, p -> local.get(p.allocation()), HostGemm.Arithmetic.FLOAT32);
        // Only C's own elements are written back: the ld gaps between its columns keep what they held.
        long c0 = address(g.c());
        int size = g.cType().byteSize();
        for (int p = 0; p < g.batch(); p++) {
            for (int j = 0; j < g.n(); j++) {
                long first = p * g.strideC() + (long) j * g.ldc();
                double[] column = java.util.Arrays.copyOfRange(c, Math.toIntExact(first), Math.toIntExact(first + g.m()));
                byte[] bytes = bytes(column, g.cType());
                exchange(request(WRITE, 16).putLong(c0 + first * size).putLong(bytes.length), bytes, "WRITE C");
            }
        }
    }

    private static double[] elements(byte[] raw, DType type) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[raw.length / type.byteSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (type) {
                case F32 -> b.getFloat();
                case F16, BF16 -> dev.attn4j.ports.tensor.HalfFloats.from(type, b.getShort());
                default -> throw new IllegalArgumentException("no GEMM in " + type);
            };
        }
        return out;
    }

    private static byte[] bytes(double[] values, DType type) {
        ByteBuffer b = ByteBuffer.allocate(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            switch (type) {
                case F32 -> b.putFloat((float) v);
                case F16, BF16 -> b.putShort(dev.attn4j.ports.tensor.HalfFloats.to(type, (float) v));
                default -> throw new IllegalArgumentException("no GEMM in " + type);
            }
        }
        return b.array();
    }

    private static byte[] toBytes(Object array) {
        ByteBuffer b;
        switch (array) {
            case float[] a -> {
                b = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(a);
            }
            case short[] a -> {
                b = ByteBuffer.allocate(2 * a.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asShortBuffer().put(a);
            }
            case int[] a -> {
                b = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asIntBuffer().put(a);
            }
            case byte[] a -> b = ByteBuffer.wrap(a);
            default -> throw new IllegalArgumentException("not a host array: " + array);
        }
        return b.array();
    }

    private static void fromBytes(byte[] raw, Object array) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        switch (array) {
            case float[] a -> b.asFloatBuffer().get(a);
            case short[] a -> b.asShortBuffer().get(a);
            case int[] a -> b.asIntBuffer().get(a);
            case byte[] a -> System.arraycopy(raw, 0, a, 0, a.length);
            default -> throw new IllegalArgumentException("not a host array: " + array);
        }
    }

    @Override
    public void synchronize(String what) {
        // launches run to completion before the server answers
    }

    @Override
    public int sharedMemoryOptIn() {
        return 227 * 1024;  // an H100's, so the tensor-core kernels' requests pass
    }

    @Override
    public void setMaxDynamicSharedMemory(String kernel, int bytes) {
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            exchange(request(QUIT, 0), null, "QUIT");
        } catch (RuntimeException ignored) {
            // the process is ended below either way
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a stray log in target/ is harmless
        }
    }

    /** Builds (if needed) the emulator with {@code run.sh build}; returns the binary, or a reason it cannot. */
    static Built build() {
        Path script = findScript();
        if (script == null) {
            return new Built(null, "src/test/host-emulation/run.sh not found from " + Path.of("").toAbsolutePath());
        }
        Path outDir = script.getParent().resolve("../../../target/host-emulation").normalize();
        try {
            Files.createDirectories(outDir);
            ProcessBuilder pb = new ProcessBuilder("sh", script.toString(), "build").redirectErrorStream(true);
            pb.environment().put("ATTN4J_EMULATE_OUT", outDir.toString());
            Process p = pb.start();
            String output;
            try (InputStream s = p.getInputStream()) {
                output = new String(s.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (p.waitFor() != 0) {
                return new Built(null, "building the host emulation failed (g++ missing?):\n" + output);
            }
            String[] lines = output.strip().split("\n");
            return new Built(Path.of(lines[lines.length - 1].strip()), null);
        } catch (IOException e) {
            return new Built(null, "building the host emulation failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Built(null, "interrupted while building the host emulation");
        }
    }

    /** The emulator binary, or why there is none. */
    record Built(Path binary, String problem) {
    }

    private static Path findScript() {
        String configured = System.getProperty("attn4j.cuda.emulationDir");
        List<Path> candidates = new ArrayList<>();
        if (configured != null) {
            candidates.add(Path.of(configured, "run.sh"));
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            candidates.add(dir.resolve("src/test/host-emulation/run.sh"));
            candidates.add(dir.resolve("backend-cuda/src/test/host-emulation/run.sh"));
        }
        return candidates.stream().filter(Files::isRegularFile).findFirst().orElse(null);
    }
}
