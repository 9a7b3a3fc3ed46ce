package org.keepstore.core.worker;

import java.util.List;

/**
 * One entry of a pull list ({@code PUT /pull}): fetch {@code locator} (HASH+SIZE) from
 * {@code servers} in order and store it on {@code mountUuid} (empty/null = first writable mount
 * in rendezvous order).
 */
public record PullItem(String locator, List<String> servers, String mountUuid) {
    public PullItem {
        servers = servers == null ? List.of() : List.copyOf(servers);
    }
}
