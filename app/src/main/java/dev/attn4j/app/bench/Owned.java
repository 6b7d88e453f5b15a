package dev.attn4j.app.bench;

import java.util.ArrayList;
import java.util.List;

/** Resources a workload made, closed together in reverse order. */
final class Owned implements AutoCloseable {
    private final List<AutoCloseable> resources = new ArrayList<>();

    <T extends AutoCloseable> T add(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception ignored) {
                // a tensor that fails to close is freed with its backend anyway
            }
        }
        resources.clear();
    }
}
