package org.keepstore.core.worker;

import java.util.List;
import java.util.Objects;

import org.keepstore.core.KeepException;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.Mount;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works off the trash list ({@code PUT /trash}, SPEC §6) through
 * {@link KeepStore#trash(String, long, String)}, which trashes a block only where its stored
 * mtime equals the item's {@code block_mtime} to the nanosecond and is older than the signature
 * TTL. Items naming an unknown mount or one that does not allow trashing are logged and skipped.
 *
 * <p>When the store has trashing disabled ({@code -never-delete}), lists are dropped on arrival:
 * nothing is ever trashed.
 */
public final class TrashWorker extends ListWorker<TrashItem> {

    private static final Logger log = LoggerFactory.getLogger(TrashWorker.class);

    private final KeepStore store;

    /**
     * Starts {@code concurrency} worker threads.
     *
     * @param store       the engine whose mounts the items refer to
     * @param concurrency worker threads (at least 1)
     */
    public TrashWorker(KeepStore store, int concurrency) {
        super("trash-worker", concurrency);
        this.store = Objects.requireNonNull(store, "store");
        start();
    }

    /** A trash worker with one thread (the server uses {@code BlobTrashConcurrency}, default 4). */
    public TrashWorker(KeepStore store) {
        this(store, 1);
    }

    @Override
    public void replace(List<TrashItem> items) {
        if (!store.options().trashEnabled()) {
            if (!items.isEmpty()) {
                log.info("trash list of {} items ignored: trashing is disabled (never-delete)", items.size());
            }
            super.replace(List.of());
            return;
        }
        super.replace(items);
    }

    @Override
    String describe(TrashItem item) {
        return "trash of " + item.locator();
    }

    @Override
    void process(TrashItem item) throws Exception {
        if (!store.options().trashEnabled()) {
            return;
        }
        String hash;
        try {
            hash = Locator.parse(item.locator()).hash();
        } catch (KeepException e) {
            log.warn("trash list: skipping invalid locator {}", item.locator());
            return;
        }
        String mountUuid = item.mountUuid() == null || item.mountUuid().isBlank() ? null : item.mountUuid();
        if (mountUuid != null) {
            Mount mount = store.mount(mountUuid);
            if (mount == null) {
                log.warn("trash list: skipping {}: no mount {}", hash, mountUuid);
                return;
            }
            if (!mount.allowTrash()) {
                log.warn("trash list: skipping {}: mount {} does not allow trash", hash, mountUuid);
                return;
            }
        }
        int trashed = store.trash(hash, item.blockMtimeNanos(), mountUuid);
        log.debug("trash list: {} mtime {} trashed on {} mounts", hash, item.blockMtimeNanos(), trashed);
    }
}
