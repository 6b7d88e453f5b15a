package dev.attn4j.backend.opencl;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A tensor in one {@code cl_mem} buffer of its engine's context. Closing releases the buffer.
 *
 * <p>A tensor either owns a buffer or is a <em>view</em>: an OpenCL sub-buffer of its root's buffer from a byte
 * origin, made without a copy ({@link OpenClEngine#view}). OpenCL allows no sub-buffer of a sub-buffer, so a view of a
 * view is a sub-buffer of the root at the summed origin. Kernels see a view's buffer as any other, starting at its
 * first element. Closing a tensor closes its views first (and theirs), so a view never outlives what it looks into;
 * {@link #root()} and {@link #byteOffset()} let ops that write in place refuse inputs sharing their storage.
 */
final class ClTensor extends DeviceTensorBase<cl_mem> {
    private final OpenClEngine owner;
    /** The tensor whose buffer this one's storage is part of: itself when it owns its buffer. */
    private final ClTensor root;
    /** The tensor this one is a view of, or {@code null}. */
    private final ClTensor base;
    /** Byte origin in the root's buffer. */
    private final long byteOffset;
    /** Open views of this tensor; guarded by {@code this}. */
    private Set<ClTensor> views;

    ClTensor(OpenClEngine owner, Shape shape, DType dtype, cl_mem buffer) {
        this(owner, shape, dtype, buffer, null, 0);
    }

    /** A view over {@code base}'s root's buffer; {@code buffer} is the sub-buffer at {@code byteOffset}. */
    ClTensor(OpenClEngine owner, Shape shape, DType dtype, cl_mem buffer, ClTensor base, long byteOffset) {
        super(OpenClBackendProvider.NAME, shape, dtype, buffer);
        this.owner = owner;
        this.base = base;
        this.root = base == null ? this : base.root;
        this.byteOffset = byteOffset;
    }

    @Override
    public void close() {
        List<ClTensor> children;
        synchronized (this) {
            children = views == null ? List.of() : new ArrayList<>(views);
            views = null;
        }
        for (ClTensor v : children) {
            v.close();
        }
        owner.release(this);
        if (base != null) {
            base.forget(this);
        }
    }

    /** Records an open view; fails when this tensor was closed meanwhile (another thread). */
    synchronized void attach(ClTensor view) {
        if (isClosed()) {
            throw new dev.attn4j.ports.ClosedException("opencl tensor " + shape() + " was closed while a view was being made");
        }
        if (views == null) {
            views = new LinkedHashSet<>();
        }
        views.add(view);
    }

    private synchronized void forget(ClTensor view) {
        if (views != null) {
            views.remove(view);
        }
    }

    OpenClEngine owner() {
        return owner;
    }

    /** The tensor owning the buffer this one's storage lies in (itself unless a view). */
    ClTensor root() {
        return root;
    }

    /** Byte origin of this tensor's first element in {@link #root()}'s buffer. */
    long byteOffset() {
        return byteOffset;
    }

    /** The buffer; the tensor must be open. */
    cl_mem buffer() {
        return handle();
    }

    /** Closes the tensor and returns its buffer for releasing, or {@code null} when already closed. */
    cl_mem takeBuffer() {
        return detach();
    }

    /** Element count as an int (the ports cap tensors at {@code Integer.MAX_VALUE} elements). */
    int length() {
        return Math.toIntExact(shape().elementCount());
    }

    /** Whether the two tensors share at least one byte of storage. */
    boolean overlaps(ClTensor other) {
        return root == other.root && byteOffset < other.byteOffset + other.byteSize()
                && other.byteOffset < byteOffset + byteSize();
    }

    /** Whether the two tensors share storage without being exactly the same bytes. */
    boolean overlapsPartly(ClTensor other) {
        return overlaps(other) && !(byteOffset == other.byteOffset && byteSize() == other.byteSize());
    }
}
