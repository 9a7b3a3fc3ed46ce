package org.keepstore.server.config;

/** A cluster config that cannot be used; the message names the key path and says what is wrong. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
