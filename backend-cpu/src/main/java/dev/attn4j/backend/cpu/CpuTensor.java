package dev.attn4j.backend.cpu;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A tensor on the Java heap: {@code float[]} for F32, {@code short[]} bits for F16 and BF16, {@code int[]}
 * for I32, {@code boolean[]} for BOOL. Kernels compute on F32 (16-bit tensors are widened around them by the
 * ports' {@code HalfPrecisionPorts}, with {@link HalfConversions}).
 *
 * <p>A tensor either owns its array or is a <em>view</em>: a window of its base's array from an element
 * offset, made by {@link #view} without a copy. Views of views compose (offsets add up, the array is the
 * root's). Closing a view leaves the array alone; closing a tensor closes its views first (and theirs), so a
 * view never outlives the tensor it looks into. Kernels reach the elements only through {@link Span}s
 * ({@link #f32()}, {@link #halves()}, {@link #i32()}, {@link #bools()}), which carry the offset.
 */
final class CpuTensor extends DeviceTensorBase<Object> {
    private final CpuEngine owner;
    /** Index of element 0 in the storage array. */
    private final int offset;
    /** The tensor this one is a view of, or {@code null} when it owns its array. */
    private final CpuTensor base;
    /** Open views of this tensor; guarded by {@code this}. */
    private Set<CpuTensor> views;

    /** A tensor owning {@code data} (a new array nobody else holds). */
    CpuTensor(CpuEngine owner, Shape shape, DType dtype, Object data) {
        this(owner, shape, dtype, data, 0, null);
    }

    private CpuTensor(CpuEngine owner, Shape shape, DType dtype, Object data, int offset, CpuTensor base) {
        super(CpuEngine.NAME, shape, dtype, data);
        this.owner = owner;
        this.offset = offset;
        this.base = base;
    }

    /**
     * A view of {@code shape} over this tensor's elements from {@code elementOffset} (the facade checked the
     * range), registered with the engine. Throws {@link IllegalStateException} if this tensor was closed
     * meanwhile (by another thread), so a view is never attached to a closed tensor.
     */
    CpuTensor view(long elementOffset, Shape shape) {
        CpuTensor v = new CpuTensor(owner, shape, dtype(), handle(), Math.addExact(offset, Math.toIntExact(elementOffset)),
                this);
        synchronized (this) {
            if (isClosed()) {
                throw new IllegalStateException("cpu tensor " + shape() + " was closed while a view was being made");
            }
            if (views == null) {
                views = new LinkedHashSet<>();
            }
            views.add(v);
            owner.register(v);
        }
        return v;
    }

    /** Closes this tensor's views (and theirs), then the tensor; a view's array stays with its base. */
    @Override
    public void close() {
        Object data = detach();
        if (data == null) {
            return;
        }
        List<CpuTensor> children;
        synchronized (this) {
            children = views == null ? List.of() : new ArrayList<>(views);
            views = null;
        }
        try {
            for (CpuTensor v : children) {
                v.close();
            }
        } finally {
            if (base != null) {
                base.forget(this);
            }
            owner.release(this);
            if (base == null && data instanceof float[] floats) {
                // Its views are closed: nothing open shares the array, so it may become another output.
                owner.recycle(floats);
            }
        }
    }

    /** A closed view stops being tracked, so a long-lived base does not accumulate its closed views. */
    private synchronized void forget(CpuTensor view) {
        if (views != null) {
            views.remove(view);
        }
    }

    CpuEngine owner() {
        return owner;
    }

    /** Whether this tensor is a view of another's storage. */
    boolean isView() {
        return base != null;
    }

    private int length() {
        return Math.toIntExact(shape().elementCount());
    }

    /** The elements of an F32 tensor. */
    Span<float[]> f32() {
        return new Span<>((float[]) handle(), offset, length());
    }

    /** The bits of an F16 or BF16 tensor. */
    Span<short[]> halves() {
        return new Span<>((short[]) handle(), offset, length());
    }

    /** The elements of an I32 tensor. */
    Span<int[]> i32() {
        return new Span<>((int[]) handle(), offset, length());
    }

    /** The elements of a BOOL tensor. */
    Span<boolean[]> bools() {
        return new Span<>((boolean[]) handle(), offset, length());
    }

    /** The elements of any dtype, as the array type it is stored in (for dtype-agnostic copies). */
    Span<Object> any() {
        return new Span<>(handle(), offset, length());
    }

    /** Called by the engine when it closes (it frees every registered tensor, views included): forget the data. */
    void drop() {
        detach();
    }
}
