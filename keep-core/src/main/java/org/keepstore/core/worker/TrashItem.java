package org.keepstore.core.worker;

/**
 * One entry of a trash list ({@code PUT /trash}): trash {@code locator} where its mtime is
 * exactly {@code blockMtimeNanos}, on {@code mountUuid} (empty/null = every trashable mount).
 */
public record TrashItem(String locator, long blockMtimeNanos, String mountUuid) {
}
