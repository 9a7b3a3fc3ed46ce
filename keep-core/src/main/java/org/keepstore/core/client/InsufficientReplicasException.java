package org.keepstore.core.client;

import java.util.List;

/**
 * A {@link KeepClient#put} stored the block, but on fewer replicas than asked for. The block is
 * safe where it was stored; {@link #result()} says where that leaves it.
 */
public class InsufficientReplicasException extends KeepClientException {
    private final transient PutResult result;
    private final int wanted;

    InsufficientReplicasException(PutResult result, int wanted, int status, List<String> attempts) {
        super("stored " + result.replicas() + " of " + wanted + " replicas", status, attempts);
        this.result = result;
        this.wanted = wanted;
    }

    /** The locator and the replicas that were stored. */
    public PutResult result() {
        return result;
    }

    /** The replicas asked for. */
    public int wanted() {
        return wanted;
    }
}
