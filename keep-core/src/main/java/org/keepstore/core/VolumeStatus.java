package org.keepstore.core;

/**
 * What a volume reports about itself for {@code /status.json}.
 *
 * @param mountPoint  where it is (directory path, bucket, container), never a credential
 * @param deviceId    see {@link Volume#deviceId()}
 * @param bytesFree   free bytes, or -1 when the backend cannot say
 * @param bytesUsed   used bytes, or -1 when the backend cannot say
 */
public record VolumeStatus(String mountPoint, String deviceId, long bytesFree, long bytesUsed) {
}
