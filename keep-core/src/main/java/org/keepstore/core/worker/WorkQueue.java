package org.keepstore.core.worker;

import java.util.List;

/**
 * A list of work that {@code keep-balance} replaces wholesale ({@code PUT /pull}, {@code PUT /trash}).
 */
public interface WorkQueue<T> {
    /** Drops whatever is still queued and queues {@code items} instead. Items in progress finish. */
    void replace(List<T> items);

    /** Items waiting. */
    int queued();

    /** Items being worked on now. */
    int inProgress();
}
