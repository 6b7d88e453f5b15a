package dev.attn4j.backend.cpu;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.Arrays;

/**
 * Host transfers and device-side tensor operations for the CPU backend: copies in and out of the heap arrays
 * (F32, F16/BF16 bits, I32, BOOL), views over a shared array ({@link CpuTensor#view}), strided copies, casts
 * and fills. Large copies, casts and fills run on the worker pool in {@link WorkerPool#RANGE}-sized pieces.
 */
final class CpuTensors implements TensorPort {
    private final CpuEngine engine;
    private final WorkerPool pool;

    CpuTensors(CpuEngine engine, WorkerPool pool) {
        this.engine = engine;
        this.pool = pool;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        if (dtype == DType.F32) {
            return engine.register(new CpuTensor(engine, shape, dtype, data.clone()));
        }
        short[] bits = new short[data.length];
        for (int i = 0; i < data.length; i++) {
            bits[i] = HalfFloats.to(dtype, data[i]);
        }
        return engine.register(new CpuTensor(engine, shape, dtype, bits));
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        return engine.register(new CpuTensor(engine, shape, DType.I32, data.clone()));
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        return engine.register(new CpuTensor(engine, shape, DType.BOOL, data.clone()));
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        int n = Math.toIntExact(shape.elementCount());
        Object data = switch (dtype) {
            case F32 -> new float[n];
            case I32 -> new int[n];
            case BOOL -> new boolean[n];
            case F16, BF16 -> new short[n];
        };
        return engine.register(new CpuTensor(engine, shape, dtype, data));
    }

    /** F32: possibly a closed tensor's array, old contents and all ({@link CpuEngine#newOutput}); else zeros. */
    @Override
    public DeviceTensor allocate(Shape shape, DType dtype) {
        return dtype == DType.F32 ? engine.newOutput(shape) : zeros(shape, dtype);
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        CpuTensor t = (CpuTensor) tensor;
        if (t.dtype() == DType.F32) {
            Span<float[]> s = t.f32();
            return Arrays.copyOfRange(s.array(), s.offset(), s.end());
        }
        Span<short[]> bits = t.halves();
        float[] out = new float[bits.length()];
        HalfConversions.widen(t.dtype(), bits, 0, new Span<>(out, 0, out.length), 0, out.length);
        return out;
    }

    @Override
    public int[] downloadInts(DeviceTensor tensor) {
        Span<int[]> s = ((CpuTensor) tensor).i32();
        return Arrays.copyOfRange(s.array(), s.offset(), s.end());
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        Span<boolean[]> s = ((CpuTensor) tensor).bools();
        return Arrays.copyOfRange(s.array(), s.offset(), s.end());
    }

    @Override
    public DeviceTensor view(DeviceTensor base, long offset, Shape shape) {
        return ((CpuTensor) base).view(offset, shape);
    }

    /**
     * Row by row with {@link System#arraycopy}, in pieces of about {@link WorkerPool#RANGE} elements on the
     * pool. The facade rejects a tensor copied onto itself overlapping; two distinct tensors can still share an
     * array (a base and its view, two views of one base), which only this engine can see: the same rule is
     * applied to their element ranges here, before anything is copied.
     */
    @Override
    public void copy(CopyRequest r) {
        Span<Object> src = ((CpuTensor) r.src()).any();
        Span<Object> dst = ((CpuTensor) r.dst()).any();
        // The request checked every range against its tensor's element count (< 2^31), so these fit an int.
        int rows = Math.toIntExact(r.rows());
        int cols = Math.toIntExact(r.cols());
        int srcAt = Math.toIntExact(src.offset() + r.srcOffset());
        int dstAt = Math.toIntExact(dst.offset() + r.dstOffset());
        int srcStride = Math.toIntExact(r.srcStride());
        int dstStride = Math.toIntExact(r.dstStride());
        if (src.array() == dst.array()) {
            long srcEnd = srcAt + (long) (rows - 1) * srcStride + cols;
            long dstEnd = dstAt + (long) (rows - 1) * dstStride + cols;
            InvalidRequestException.check(srcEnd <= dstAt || dstEnd <= srcAt, "dst",
                    "a range not overlapping src's (they share storage: a tensor and its view)",
                    "overlapping storage elements [" + dstAt + ", " + dstEnd + ") and [" + srcAt + ", " + srcEnd + ")");
        }
        Object from = src.array();
        Object to = dst.array();
        if (cols >= WorkerPool.RANGE) {
            // Long rows: pieces of one row each.
            int pieces = WorkerPool.rangeCount(cols);
            pool.forEach(Math.multiplyExact(rows, pieces), item -> {
                int row = item / pieces;
                int c0 = (item % pieces) * WorkerPool.RANGE;
                int n = Math.min(cols - c0, WorkerPool.RANGE);
                System.arraycopy(from, srcAt + row * srcStride + c0, to, dstAt + row * dstStride + c0, n);
            });
        } else {
            // Short rows: several whole rows per piece.
            int rowsPer = WorkerPool.RANGE / cols;
            pool.forEach(Math.ceilDiv(rows, rowsPer), item -> {
                int first = item * rowsPer;
                for (int row = first, end = first + Math.min(rowsPer, rows - first); row < end; row++) {
                    System.arraycopy(from, srcAt + row * srcStride, to, dstAt + row * dstStride, cols);
                }
            });
        }
    }

    @Override
    public DeviceTensor cast(DeviceTensor source, DType dtype) {
        CpuTensor src = (CpuTensor) source;
        CpuTensor out = dtype == DType.F32 ? engine.newOutput(src.shape()) : engine.newHalves(src.shape(), dtype);
        try {
            castInto(src, out);
            return engine.handOut(out, "cast");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    private void castInto(CpuTensor src, CpuTensor out) {
        DType from = src.dtype();
        DType to = out.dtype();
        int n = Math.toIntExact(src.shape().elementCount());
        if (to == DType.F32) {
            Span<float[]> d = out.f32();
            if (from == DType.F32) {
                Span<float[]> s = src.f32();
                pool.forRanges(n, (a, b) -> System.arraycopy(s.array(), s.offset() + a, d.array(), d.offset() + a, b - a));
            } else {
                Span<short[]> s = src.halves();
                pool.forRanges(n, (a, b) -> HalfConversions.widen(from, s, a, d, a, b - a));
            }
            return;
        }
        Span<short[]> d = out.halves();
        if (from == DType.F32) {
            Span<float[]> s = src.f32();
            pool.forRanges(n, (a, b) -> HalfConversions.narrow(s, a, to, d, a, b - a));
        } else if (from == to) {
            Span<short[]> s = src.halves();
            pool.forRanges(n, (a, b) -> System.arraycopy(s.array(), s.offset() + a, d.array(), d.offset() + a, b - a));
        } else {
            Span<short[]> s = src.halves();
            pool.forRanges(n, (a, b) -> HalfConversions.convert(from, s, a, to, d, a, b - a));
        }
    }

    @Override
    public void fill(DeviceTensor tensor, float value) {
        CpuTensor t = (CpuTensor) tensor;
        int n = Math.toIntExact(t.shape().elementCount());
        if (t.dtype() == DType.F32) {
            Span<float[]> s = t.f32();
            pool.forRanges(n, (a, b) -> Arrays.fill(s.array(), s.offset() + a, s.offset() + b, value));
        } else {
            Span<short[]> s = t.halves();
            short bits = HalfFloats.to(t.dtype(), value);
            pool.forRanges(n, (a, b) -> Arrays.fill(s.array(), s.offset() + a, s.offset() + b, bits));
        }
    }
}
