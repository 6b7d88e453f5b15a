package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A tensor kept on the device: a block of the engine's float heap (F32) or int heap (I32, and BOOL as 0/1), see
 * {@link DeviceHeap}. Closing it returns the block to its heap; so does the garbage collector for a tensor that
 * was dropped unclosed, since blocks leaked in a fixed-size heap would make it grow (and recompile its kernels).
 *
 * <p>A tensor either owns its block or is a <em>view</em>: a window of its base's block from an element offset,
 * made without a copy ({@link TornadoTensors#view}); views of views compose (offsets add up, the block is the
 * root's). Closing a view leaves the block alone; closing a tensor closes its views first (and theirs), so a view
 * never outlives what it looks into, and a view holds its base, so the base's block is not reclaimed under it.
 * {@link #overlaps} lets ops that write in place refuse inputs sharing their storage.
 */
final class TornadoTensor extends DeviceTensorBase<DeviceHeap.Block> {
    /**
     * One cleaner thread for every engine in the JVM: its action waits for the engine's lock, so it may sit out a
     * running kernel, which only delays reclaiming, never blocks a caller.
     */
    private static final Cleaner CLEANER = Cleaner.create();

    /** Returns the block to its heap; {@code null} for a view, which owns none. */
    private final Cleaner.Cleanable release;
    private final TornadoEngine owner;
    /** The tensor this one is a view of, or {@code null}. */
    private final TornadoTensor base;
    /** Open views of this tensor; guarded by {@code this}. */
    private Set<TornadoTensor> views;

    TornadoTensor(TornadoEngine engine, Shape shape, DType dtype, DeviceHeap.Block block) {
        super(TornadoEngine.NAME, shape, dtype, block);
        this.owner = engine;
        this.base = null;
        // The action holds the engine and the block, never this tensor, and runs at most once.
        this.release = CLEANER.register(this, () -> engine.release(block));
    }

    /** A view of {@code base} over {@code window}, a part of the root's block (which it does not own). */
    TornadoTensor(TornadoTensor base, Shape shape, DeviceHeap.Block window) {
        super(TornadoEngine.NAME, shape, base.dtype(), window);
        this.owner = base.owner;
        this.base = base;
        this.release = null;
    }

    /** The engine that made this tensor. */
    TornadoEngine owner() {
        return owner;
    }

    /** The block holding the values (for a view, its window of the root's block). */
    DeviceHeap.Block block() {
        return handle();
    }

    /** Where the values start in their heap: what the kernels' {@code meta} offsets hold. */
    int offset() {
        return handle().offset();
    }

    /**
     * Where a tensor of this engine starts in its heap; 0 for an absent one, whose flag in {@code meta} makes the
     * kernels ignore whatever they read there.
     */
    static int at(DeviceTensor t) {
        return t == null ? 0 : ((TornadoTensor) t).offset();
    }

    /** Whether this tensor's elements and {@code other}'s share any place of one heap. */
    boolean overlaps(TornadoTensor other) {
        DeviceHeap.Block a = handle();
        DeviceHeap.Block b = other.handle();
        long aEnd = a.offset() + shape().elementCount();
        long bEnd = b.offset() + other.shape().elementCount();
        return a.ints() == b.ints() && a.offset() < bEnd && b.offset() < aEnd;
    }

    /** Whether the two share storage without being exactly the same elements. */
    boolean overlapsPartly(TornadoTensor other) {
        boolean same = handle().ints() == other.handle().ints() && offset() == other.offset()
                && shape().elementCount() == other.shape().elementCount();
        return overlaps(other) && !same;
    }

    /**
     * Refuses an output that shares storage with any of the inputs (views of one block), before anything runs: the
     * facade cannot see views overlap, and a kernel reading what it writes would depend on the schedule.
     */
    static void apart(String written, DeviceTensor out, DeviceTensor... inputs) {
        if (out == null) {
            return;
        }
        for (DeviceTensor t : inputs) {
            if (t != null && ((TornadoTensor) out).overlaps((TornadoTensor) t)) {
                throw new InvalidRequestException(written, "storage apart from the request's other tensors",
                        "a view sharing storage with one of them");
            }
        }
    }

    /** Records an open view; fails when this tensor was closed meanwhile (by another thread). */
    synchronized void attach(TornadoTensor view) {
        if (isClosed()) {
            throw new ClosedException("tornado tensor " + shape() + " was closed while a view was being made");
        }
        if (views == null) {
            views = new LinkedHashSet<>();
        }
        views.add(view);
    }

    private synchronized void forgetView(TornadoTensor view) {
        if (views != null) {
            views.remove(view);
        }
    }

    @Override
    public void close() {
        List<TornadoTensor> children;
        synchronized (this) {
            children = views == null ? List.of() : new ArrayList<>(views);
            views = null;
        }
        for (TornadoTensor v : children) {
            v.close();
        }
        if (detach() != null) {
            owner.forget(this);
            if (release != null) {
                release.clean();
            }
            if (base != null) {
                base.forgetView(this);
            }
        }
    }
}
