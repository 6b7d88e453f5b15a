package dev.attn4j.backend.tornado.heap;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hands out aligned blocks of a fixed-size range of elements: the bookkeeping behind the tornado engine's
 * device heaps, where every tensor is a block of one large device buffer. First fit over an ordered free
 * list; freeing merges a block with its free neighbours, so a heap that is emptied is one free block again.
 * Plain Java and not thread-safe (the engine serialises calls), so it is tested without TornadoVM.
 *
 * <pre>{@code
 * BlockAllocator heap = new BlockAllocator(1 << 20, 16);
 * long q = heap.allocate(4096);          // 0
 * long k = heap.allocate(100);           // 4096
 * heap.free(q);
 * if (heap.allocate(1 << 21) < 0) { heap.grow(1 << 22); }
 * }</pre>
 */
public final class BlockAllocator {
    private final int alignment;
    private long capacity;
    /** Free blocks, offset to length; never two adjacent ones. */
    private final TreeMap<Long, Long> free = new TreeMap<>();
    /** Allocated blocks, offset to length (rounded up to the alignment). */
    private final Map<Long, Long> used = new HashMap<>();
    private long usedElements;

    /**
     * An empty range.
     *
     * @param capacity  elements in the range, {@code >= 0}
     * @param alignment every block starts at a multiple of it (a power of two, in elements)
     */
    public BlockAllocator(long capacity, int alignment) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
        }
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two, got " + alignment);
        }
        this.alignment = alignment;
        this.capacity = capacity - capacity % alignment;
        if (this.capacity > 0) {
            free.put(0L, this.capacity);
        }
    }

    /**
     * The offset of a new block of {@code n} elements, or {@code -1} when no free block is large enough (then
     * {@link #grow} and try again).
     *
     * @param n the count
     * @return the block's offset, or -1 when no block of that size is free
     */
    public long allocate(long n) {
        if (n <= 0) {
            throw new IllegalArgumentException("block size must be > 0, got " + n);
        }
        long size = roundUp(n);
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            long offset = e.getKey();
            long length = e.getValue();
            if (length >= size) {
                // Read before removing: TreeMap may reuse the removed entry's node for its successor.
                free.remove(offset);
                if (length > size) {
                    free.put(offset + size, length - size);
                }
                used.put(offset, size);
                usedElements += size;
                return offset;
            }
        }
        return -1;
    }

    /**
     * Returns the block at {@code offset} to the free list.
     *
     * @param offset the offset
     */
    public void free(long offset) {
        Long size = used.remove(offset);
        if (size == null) {
            throw new IllegalArgumentException("no block is allocated at " + offset);
        }
        usedElements -= size;
        release(offset, size);
    }

    /**
     * Extends the range to {@code newCapacity} elements; allocated blocks keep their offsets.
     *
     * @param newCapacity the new capacity
     */
    public void grow(long newCapacity) {
        long aligned = newCapacity - newCapacity % alignment;
        if (aligned < capacity) {
            throw new IllegalArgumentException("cannot shrink from " + capacity + " to " + newCapacity);
        }
        if (aligned > capacity) {
            release(capacity, aligned - capacity);
            capacity = aligned;
        }
    }

    /** {@return elements in the range} */
    public long capacity() {
        return capacity;
    }

    /** {@return elements in allocated blocks (each rounded up to the alignment)} */
    public long used() {
        return usedElements;
    }

    /** {@return one past the last element of the highest allocated block: what a copy of the live range must hold} */
    public long end() {
        Map.Entry<Long, Long> last = free.lastEntry();
        boolean tailFree = last != null && last.getKey() + last.getValue() == capacity;
        return tailFree ? last.getKey() : capacity;
    }

    /** {@return allocated blocks} */
    public int blocks() {
        return used.size();
    }

    private void release(long offset, long size) {
        long start = offset;
        long length = size;
        Map.Entry<Long, Long> before = free.floorEntry(offset);
        if (before != null && before.getKey() + before.getValue() == offset) {
            start = before.getKey();
            length += before.getValue();
            free.remove(before.getKey());
        }
        Long after = free.get(offset + size);
        if (after != null) {
            length += after;
            free.remove(offset + size);
        }
        free.put(start, length);
    }

    private long roundUp(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }
}
