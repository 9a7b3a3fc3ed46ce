package org.keepstore.core.worker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import org.keepstore.core.BlobSigner;
import org.keepstore.core.BufferPool;
import org.keepstore.core.KeepException;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Locator;
import org.keepstore.core.Mount;
import org.keepstore.core.WriteResult;
import org.keepstore.core.client.KeepClient;
import org.keepstore.core.client.KeepService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works off the pull list ({@code PUT /pull}, SPEC §9): for each item, fetches the block from
 * the listed servers in the order given, verifies it, and stores it on the named mount or, when
 * none is named, as a PUT naming no storage class would: on the first writable mount in
 * rendezvous order that offers a default class (one per default class when there are several),
 * or nowhere new when such a mount already holds an identical copy (it is touched instead).
 *
 * <p><b>Authorization.</b> The locator is signed with this server's {@link BlobSigner} for
 * {@link #PULL_TOKEN}, and that token is sent with the request, so any server of the same
 * cluster (same signing key) accepts it even when it enforces permissions. The token is a fixed,
 * public string on purpose: it grants nothing by itself (only the signature made with the shared
 * key does), and a pull list may name any host, so no secret of this server (its admin token
 * is the cluster's root token under {@code -config}) may ever be sent to one. The reference
 * keepstore sends the same string.
 *
 * <p>Items with an invalid locator, without a size hint, or naming an unknown or read-only
 * mount are logged and skipped; a failed fetch or write is logged and the list moves on.
 * Blocks are fetched into a buffer of the store's {@link BufferPool}, so pulling stays within
 * the server's memory bound; a block of at most {@link KeepStore#SMALL_BLOCK} bytes into an array
 * of its own, so small pulls do not queue behind large transfers.
 */
public final class PullWorker extends ListWorker<PullItem> {

    /** The token pull requests are signed for and sent with: public, not a credential. */
    public static final String PULL_TOKEN = "keepstore-token-used-for-pulling-data-from-same-cluster";

    private static final Logger log = LoggerFactory.getLogger(PullWorker.class);

    private final KeepStore store;
    private final BlobSigner signer;
    private final KeepClient client;

    /**
     * Starts {@code concurrency} worker threads.
     *
     * @param store       where pulled blocks are written
     * @param signer      signs the locators sent to other servers; null when no key is configured
     * @param client      a client whose settings (timeouts, retries, connections) are used for
     *                    every pull; its services are replaced by each item's servers
     * @param concurrency worker threads ({@code BlobReplicateConcurrency}, default 1)
     */
    public PullWorker(KeepStore store, BlobSigner signer, KeepClient client, int concurrency) {
        super("pull-worker", concurrency);
        this.store = Objects.requireNonNull(store, "store");
        this.signer = signer;
        this.client = Objects.requireNonNull(client, "client");
        start();
    }

    /** A pull worker with default client settings. */
    public PullWorker(KeepStore store, BlobSigner signer, int concurrency) {
        this(store, signer, KeepClient.builder().build(), concurrency);
    }

    @Override
    String describe(PullItem item) {
        return "pull of " + safeLocatorText(item.locator());
    }

    @Override
    void process(PullItem item) throws Exception {
        Locator locator;
        try {
            locator = Locator.parse(item.locator()).withoutSignature();
        } catch (KeepException e) {
            log.warn("pull list: skipping invalid locator {}", safeLocatorText(item.locator()));
            return;
        }
        if (!locator.hasSize() || locator.size() > Locator.MAX_BLOCK_SIZE) {
            log.warn("pull list: skipping {}: needs a size hint of at most {} bytes",
                    locator.hashAndSize(), Locator.MAX_BLOCK_SIZE);
            return;
        }
        String mountUuid = item.mountUuid() == null || item.mountUuid().isBlank() ? null : item.mountUuid();
        if (mountUuid != null) {
            Mount mount = store.mount(mountUuid);
            if (mount == null) {
                log.warn("pull list: skipping {}: no mount {}", locator.hashAndSize(), mountUuid);
                return;
            }
            if (!mount.allowWrite()) {
                log.warn("pull list: skipping {}: mount {} is read-only", locator.hashAndSize(), mountUuid);
                return;
            }
        }
        List<KeepService> sources = sources(item, locator);
        if (sources.isEmpty()) {
            log.warn("pull list: skipping {}: no usable servers listed", locator.hashAndSize());
            return;
        }

        Locator request = signer == null ? locator : signer.sign(locator, PULL_TOKEN);
        KeepClient fromSources = client.toBuilder().services(sources).inGivenOrder(true).token(PULL_TOKEN).build();
        if (locator.size() <= KeepStore.SMALL_BLOCK) {
            ByteBuffer buffer = ByteBuffer.allocate((int) locator.size());
            storePulled(locator, buffer, fromSources.get(request, buffer), mountUuid, sources);
            return;
        }
        try (BufferPool.Lease lease = store.bufferPool().acquire()) {
            ByteBuffer buffer = lease.buffer();
            storePulled(locator, buffer, fromSources.get(request, buffer), mountUuid, sources);
        }
    }

    private void storePulled(Locator locator, ByteBuffer buffer, int length, String mountUuid, List<KeepService> sources)
            throws IOException, InterruptedException {
        WriteResult written = store.write(locator.hash(), buffer.limit(length), Set.of(), mountUuid);
        log.info("pulled {} from {}; now {} replicas here", locator.hashAndSize(),
                sources.size() == 1 ? sources.get(0).root() : sources.size() + " servers", written.replicas());
    }

    private static List<KeepService> sources(PullItem item, Locator locator) {
        List<KeepService> sources = new ArrayList<>(item.servers().size());
        for (String server : item.servers()) {
            try {
                sources.add(KeepService.fromPullListEntry(server));
            } catch (IllegalArgumentException e) {
                log.warn("pull list: {}: ignoring unusable server {}", locator.hashAndSize(), server);
            }
        }
        return sources;
    }

    /** A locator from a pull list, shortened to its hash and size so no signature is logged. */
    private static String safeLocatorText(String text) {
        if (text == null) {
            return "(none)";
        }
        int plusA = text.indexOf("+A");
        String shown = plusA >= 0 ? text.substring(0, plusA) : text;
        return shown.length() > 80 ? shown.substring(0, 80) + "…" : shown;
    }
}
