package org.keepstore.core;

/**
 * Thrown by {@link Volume#write} when the volume has no room for a block. The engine moves on to
 * the next mount; when every writable mount is full the client gets 507.
 */
public class VolumeFullException extends KeepException {
    public VolumeFullException(String message) {
        super(507, message);
    }
}
