package org.keepstore.core;

import java.time.Clock;
import java.time.Duration;

/**
 * Signs and verifies permission hints {@code +A<sig>@<exp>} (SPEC §2):
 * {@code sig} = lowercase hex HMAC-SHA1(key, {@code HASH@TOKEN@EXPHEX@TTLHEX}), {@code exp} = expiry
 * as 8 lowercase hex digits of Unix seconds, {@code TTLHEX} = the TTL in seconds, lowercase hex
 * without padding. Only the 32-hex hash is signed.
 */
public final class BlobSigner {

    /** Outcome of {@link #check}. */
    public enum Verdict { VALID, MISSING, EXPIRED, INVALID }

    public BlobSigner(byte[] key, Duration ttl, Clock clock) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** {@code locator} with a fresh {@code +A…} hint (any old one removed); expiry = now + TTL. */
    public Locator sign(Locator locator, String token) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** The signature hint text ({@code A<sig>@<exp>}) for a hash, token and expiry (Unix seconds). */
    public String signatureHint(String hash, String token, long expiresAtSeconds) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Checks a locator's signature for a token: MISSING when it has no {@code +A} hint,
     * EXPIRED when the expiry has passed (checked before the MAC), INVALID when the hint is
     * malformed or the MAC differs (compared in constant time), else VALID.
     */
    public Verdict check(Locator locator, String token) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Like {@link #check} but throws the matching {@link KeepException}: no token → 401
     * {@value KeepException#NO_TOKEN}; expired → 401; missing/invalid → 400
     * {@value KeepException#INVALID_SIGNATURE}.
     */
    public void verify(Locator locator, String token) throws KeepException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public Duration ttl() {
        throw new UnsupportedOperationException("not yet implemented");
    }
}
