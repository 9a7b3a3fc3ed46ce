package org.keepstore.core;

import java.util.Map;

/**
 * The outcome of a successful {@link KeepStore#write}.
 *
 * @param locator          {@code HASH+SIZE}, unsigned
 * @param replicas         sum of the replication of every mount that now holds the block
 * @param classesConfirmed per storage class, the sum of replication of mounts in that class that
 *                         now hold the block (insertion order = rendezvous order of discovery)
 */
public record WriteResult(Locator locator, int replicas, Map<String, Integer> classesConfirmed) {
    public WriteResult {
        classesConfirmed = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(classesConfirmed));
    }
}
