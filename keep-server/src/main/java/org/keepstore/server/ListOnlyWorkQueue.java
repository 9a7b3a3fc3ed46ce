package org.keepstore.server;

import java.util.List;

import org.keepstore.core.worker.WorkQueue;

/**
 * A work queue that only keeps the latest list keep-balance sent, without working on it: for
 * servers (e.g. in-process tests of list parsing) that should accept {@code PUT /pull} and
 * {@code PUT /trash} without acting on them. {@link Main} uses the real workers.
 */
final class ListOnlyWorkQueue<T> implements WorkQueue<T> {
    private volatile List<T> items = List.of();

    @Override
    public void replace(List<T> newItems) {
        items = List.copyOf(newItems);
    }

    @Override
    public int queued() {
        return items.size();
    }

    @Override
    public int inProgress() {
        return 0;
    }
}
