package org.keepstore.server;

import java.util.List;

import org.keepstore.core.worker.WorkQueue;

/**
 * A work queue that only keeps the latest list keep-balance sent, without working on it. It stands
 * in until the pull and trash workers are wired into {@link Main}, so {@code PUT /pull} and
 * {@code PUT /trash} are accepted and reported in {@code /status.json}.
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
