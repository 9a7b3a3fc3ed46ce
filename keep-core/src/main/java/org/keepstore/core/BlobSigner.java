package org.keepstore.core;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and verifies permission hints {@code +A<sig>@<exp>} (SPEC §2):
 * {@code sig} = lowercase hex HMAC-SHA1(key, {@code HASH@TOKEN@EXPHEX@TTLHEX}), {@code exp} = expiry
 * as 8 lowercase hex digits of Unix seconds, {@code TTLHEX} = the TTL in seconds, lowercase hex
 * without padding. Only the 32-hex hash is signed.
 *
 * <p>Thread-safe. The key is never exposed, logged or included in messages.
 */
public final class BlobSigner {

    /** Outcome of {@link #check}. */
    public enum Verdict { VALID, MISSING, EXPIRED, INVALID }

    private static final String ALGORITHM = "HmacSHA1";
    private static final int SIGNATURE_HEX_LENGTH = 40;
    private static final int EXPIRY_HEX_LENGTH = 8;
    private static final HexFormat HEX = HexFormat.of();

    private final SecretKeySpec key;
    private final Duration ttl;
    private final String ttlHex;
    private final Clock clock;

    /**
     * @param key   the blob signing key (non-empty)
     * @param ttl   how long a signature is valid; also part of the signed text
     * @param clock the source of "now" for expiries
     */
    public BlobSigner(byte[] key, Duration ttl, Clock clock) {
        Objects.requireNonNull(key, "key");
        if (key.length == 0) {
            throw new IllegalArgumentException("blob signing key must not be empty");
        }
        Objects.requireNonNull(ttl, "ttl");
        if (ttl.isNegative()) {
            throw new IllegalArgumentException("signature TTL must not be negative");
        }
        this.key = new SecretKeySpec(key, ALGORITHM);
        this.ttl = ttl;
        this.ttlHex = Long.toHexString(ttl.getSeconds());
        this.clock = Objects.requireNonNull(clock, "clock");
        mac(); // fail at construction, not at the first request, if HMAC-SHA1 is unavailable
    }

    /** {@code locator} with a fresh {@code +A…} hint (any old one removed); expiry = now + TTL. */
    public Locator sign(Locator locator, String token) {
        long expires = clock.instant().plus(ttl).getEpochSecond();
        Locator unsigned = locator.withoutSignature();
        List<String> hints = new ArrayList<>(unsigned.hints());
        hints.add(signatureHint(locator.hash(), token, expires));
        return new Locator(unsigned.hash(), unsigned.size(), hints);
    }

    /** The signature hint text ({@code A<sig>@<exp>}) for a hash, token and expiry (Unix seconds). */
    public String signatureHint(String hash, String token, long expiresAtSeconds) {
        String expiryHex = String.format("%08x", expiresAtSeconds);
        return "A" + HEX.formatHex(mac(hash, token, expiryHex)) + "@" + expiryHex;
    }

    /**
     * Checks a locator's signature for a token: MISSING when it has no {@code +A} hint,
     * EXPIRED when the expiry has passed (checked before the MAC), INVALID when the hint is
     * malformed or the MAC differs (compared in constant time), else VALID. A null token is
     * treated as the empty token.
     */
    public Verdict check(Locator locator, String token) {
        String hint = locator.signatureHint();
        if (hint == null) {
            return Verdict.MISSING;
        }
        if (signatureHints(locator) > 1) {
            // Which one would count? The reference accepts exactly one; so does this check, so
            // that the order of the hints cannot change the answer.
            return Verdict.INVALID;
        }
        // hint = "A" + 40 hex + "@" + 8 hex, as the reference server requires.
        int at = hint.indexOf('@');
        if (at != 1 + SIGNATURE_HEX_LENGTH || hint.length() != at + 1 + EXPIRY_HEX_LENGTH) {
            return Verdict.INVALID;
        }
        String signatureHex = hint.substring(1, at);
        String expiryHex = hint.substring(at + 1);
        if (!isHex(signatureHex) || !isHex(expiryHex)) {
            return Verdict.INVALID;
        }
        long expiry = Long.parseLong(expiryHex, 16);
        if (Instant.ofEpochSecond(expiry).isBefore(clock.instant())) {
            return Verdict.EXPIRED;
        }
        byte[] expected = mac(locator.hash(), token, expiryHex);
        byte[] given = HEX.parseHex(signatureHex);
        // Either case of hex passes the format check above, as in the reference, but a signature
        // is lowercase (SPEC §2): the reference compares the hex text, so it refuses the same MAC
        // in uppercase, and so does this check.
        boolean lowercase = signatureHex.equals(signatureHex.toLowerCase(Locale.ROOT));
        return MessageDigest.isEqual(expected, given) && lowercase ? Verdict.VALID : Verdict.INVALID;
    }

    /**
     * Like {@link #check} but throws the matching {@link KeepException}: no token → 401
     * {@value KeepException#NO_TOKEN}; expired → 401; missing/invalid → 400
     * {@value KeepException#INVALID_SIGNATURE}.
     */
    public void verify(Locator locator, String token) throws KeepException {
        if (token == null || token.isEmpty()) {
            throw KeepException.unauthorized(KeepException.NO_TOKEN);
        }
        switch (check(locator, token)) {
            case VALID -> {
            }
            case EXPIRED -> throw KeepException.unauthorized(KeepException.EXPIRED_SIGNATURE);
            case MISSING, INVALID -> throw KeepException.badRequest(KeepException.INVALID_SIGNATURE);
        }
    }

    private static int signatureHints(Locator locator) {
        int count = 0;
        for (String h : locator.hints()) {
            if (h.charAt(0) == 'A') {
                count++;
            }
        }
        return count;
    }

    public Duration ttl() {
        return ttl;
    }

    private byte[] mac(String hash, String token, String expiryHex) {
        String message = hash + "@" + (token == null ? "" : token) + "@" + expiryHex + "@" + ttlHex;
        return mac().doFinal(message.getBytes(StandardCharsets.UTF_8));
    }

    /** A fresh Mac: Mac instances are not thread-safe, and creating one is cheap next to a request. */
    private Mac mac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA1 unavailable", e);
        }
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return false;
            }
        }
        return true;
    }
}
