package dev.attn4j.backend.cuda;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A device tensor of the cuda engine: either the owner of an allocation, or a <em>view</em> — a window of its
 * base's allocation from a byte offset ({@link #view}), made without a copy. Views of views compose (their
 * pointers are offsets into the root allocation). Closing a view leaves the memory alone; closing a tensor closes
 * its views first, and closing the engine frees everything, so no view outlives the memory it looks into.
 */
final class CudaTensor extends DeviceTensorBase<DevicePointer> {
    private final CudaEngine owner;
    /** The tensor this one is a view of, or {@code null} when it owns its allocation. */
    private final CudaTensor base;
    /** Open views of this tensor; guarded by {@code this}. */
    private Set<CudaTensor> views;

    /** A tensor owning the allocation {@code pointer}. */
    CudaTensor(CudaEngine owner, Shape shape, DType dtype, DevicePointer pointer) {
        this(owner, shape, dtype, pointer, null);
    }

    private CudaTensor(CudaEngine owner, Shape shape, DType dtype, DevicePointer pointer, CudaTensor base) {
        super(Driver.NAME, shape, dtype, pointer);
        this.owner = owner;
        this.base = base;
    }

    /**
     * A view of {@code shape} over this tensor's elements from {@code elementOffset} (the facade checked the range),
     * attached to this tensor; the caller registers it with the engine. Throws {@link IllegalStateException} when
     * this tensor was closed meanwhile, so a view is never attached to a closed tensor.
     */
    CudaTensor view(long elementOffset, Shape shape) {
        DevicePointer at = pointer().plus(Math.multiplyExact(elementOffset, (long) dtype().byteSize()));
        CudaTensor v = new CudaTensor(owner, shape, dtype(), at, this);
        synchronized (this) {
            if (isClosed()) {
                throw new IllegalStateException("cuda tensor " + shape() + " was closed while a view was being made");
            }
            if (views == null) {
                views = new LinkedHashSet<>();
            }
            views.add(v);
        }
        return v;
    }

    /** Takes this tensor's open views (the caller closes them). */
    synchronized List<CudaTensor> takeViews() {
        List<CudaTensor> all = views == null ? List.of() : new ArrayList<>(views);
        views = null;
        return all;
    }

    /** A closed view stops being tracked, so a long-lived base does not accumulate its closed views. */
    synchronized void forget(CudaTensor view) {
        if (views != null) {
            views.remove(view);
        }
    }

    @Override
    public void close() {
        owner.free(this);
    }

    CudaEngine owner() {
        return owner;
    }

    /** The tensor this one is a view of, or {@code null}. */
    CudaTensor base() {
        return base;
    }

    /** Whether this tensor is a view of another's memory (and so frees nothing). */
    boolean isView() {
        return base != null;
    }

    /** The device address of element 0; only valid while open. */
    DevicePointer pointer() {
        return handle();
    }

    /** The address of element {@code index}. */
    DevicePointer at(long index) {
        return pointer().plus(Math.multiplyExact(index, (long) dtype().byteSize()));
    }

    /** Bytes of the elements this tensor covers. */
    long bytes() {
        return Math.multiplyExact(shape().elementCount(), (long) dtype().byteSize());
    }

    /** Closes the tensor and returns its pointer, or {@code null} when already closed. */
    DevicePointer takePointer() {
        return detach();
    }

    /**
     * Whether this tensor's bytes and {@code other}'s share any byte (same allocation, intersecting ranges); with
     * {@code identicalOk}, the very same range counts as apart (an in-place op reading each element before it writes
     * it).
     */
    boolean overlaps(CudaTensor other, boolean identicalOk) {
        DevicePointer a = pointer();
        DevicePointer b = other.pointer();
        if (a.allocation() != b.allocation()) {
            return false;
        }
        long aEnd = a.byteOffset() + bytes();
        long bEnd = b.byteOffset() + other.bytes();
        boolean shared = a.byteOffset() < bEnd && b.byteOffset() < aEnd;
        boolean identical = a.byteOffset() == b.byteOffset() && aEnd == bEnd;
        return shared && !(identicalOk && identical);
    }
}
