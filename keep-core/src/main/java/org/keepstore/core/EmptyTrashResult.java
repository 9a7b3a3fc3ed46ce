package org.keepstore.core;

/**
 * What one pass of {@link Volume#emptyTrash()} did.
 *
 * @param deletedBlocks   trashed blocks permanently deleted in this pass
 * @param deletedBytes    their total size
 * @param remainingBlocks trashed blocks left because their deadline has not passed
 * @param remainingBytes  their total size
 */
public record EmptyTrashResult(long deletedBlocks, long deletedBytes, long remainingBlocks, long remainingBytes) {
    public static final EmptyTrashResult NONE = new EmptyTrashResult(0, 0, 0, 0);

    public EmptyTrashResult plus(EmptyTrashResult o) {
        return new EmptyTrashResult(deletedBlocks + o.deletedBlocks, deletedBytes + o.deletedBytes,
                remainingBlocks + o.remainingBlocks, remainingBytes + o.remainingBytes);
    }
}
