package org.keepstore.core.client;

import org.keepstore.core.Locator;

/**
 * What a {@link KeepClient#put} achieved.
 *
 * @param locator  the locator the first accepting service returned ({@code HASH+SIZE}, signed
 *                 when that service signs)
 * @param replicas the sum of {@code X-Keep-Replicas-Stored} over the services that accepted it
 */
public record PutResult(Locator locator, int replicas) {
}
