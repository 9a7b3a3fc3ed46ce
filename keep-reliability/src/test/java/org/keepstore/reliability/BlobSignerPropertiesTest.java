package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;

/**
 * Hostile signatures: {@link BlobSigner#check} never throws and never says VALID for a hint it did
 * not make for that hash, token and expiry; {@link BlobSigner#verify} throws only 400 or 401.
 */
class BlobSignerPropertiesTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration TTL = Duration.ofDays(14);
    private final BlobSigner signer = new BlobSigner("a-signing-key-for-properties".getBytes(StandardCharsets.UTF_8),
            TTL, Clock.fixed(NOW, ZoneOffset.UTC));

    @Property(tries = 3000)
    void arbitraryHintsAreNeverValid(@ForAll("hashes") String hash, @ForAll("hintText") String hint,
                                     @ForAll @StringLength(max = 60) String token) throws KeepException {
        Locator locator = new Locator(hash, 3, List.of("A" + hint));
        BlobSigner.Verdict verdict = signer.check(locator, token);
        String genuine = signer.sign(locator, token).signatureHint();
        if (!genuine.equals("A" + hint)) {
            assertNotEquals(BlobSigner.Verdict.VALID, verdict, "A" + hint);
        }
        verifyThrowsOnly400Or401(locator, token);
    }

    @Property(tries = 2000)
    void forgedSignaturesWithAFutureExpiryAreInvalid(@ForAll("hashes") String hash, @ForAll("hex40") String mac,
                                                     @ForAll @IntRange(min = 1, max = 1_000_000_000) int secondsAhead,
                                                     @ForAll @StringLength(min = 1, max = 40) String token) {
        long expiry = NOW.getEpochSecond() + secondsAhead;
        String hint = "A" + mac + "@" + String.format("%08x", expiry);
        if (hint.equals(signer.signatureHint(hash, token, expiry))) {
            return; // guessed the MAC: 2^-160
        }
        assertEquals(BlobSigner.Verdict.INVALID, signer.check(new Locator(hash, -1, List.of(hint)), token));
    }

    @Property(tries = 1000)
    void aGenuineSignatureOnlyFitsItsOwnHashTokenAndExpiry(@ForAll("hashes") String hash, @ForAll("hashes") String other,
                                                           @ForAll @StringLength(min = 1, max = 40) String token,
                                                           @ForAll @StringLength(min = 1, max = 40) String otherToken,
                                                           @ForAll @IntRange(min = 1, max = 47) int flip) {
        Locator signed = signer.sign(new Locator(hash, 10, List.of("Kzzzzz")), token);
        assertEquals(BlobSigner.Verdict.VALID, signer.check(signed, token));
        if (!otherToken.equals(token)) {
            assertEquals(BlobSigner.Verdict.INVALID, signer.check(signed, otherToken));
        }
        if (!other.equals(hash)) {
            assertEquals(BlobSigner.Verdict.INVALID,
                    signer.check(new Locator(other, 10, signed.hints()), token));
        }
        // One character of the MAC or the expiry changed (the expiry only ever later, so the verdict
        // cannot be EXPIRED).
        String hint = signed.signatureHint();
        char[] chars = hint.toCharArray();
        int pos = flip <= 40 ? flip : 41 + (flip - 41) % 8;
        if (pos > 41) {
            chars[pos] = chars[pos] == 'f' ? 'f' : (char) (chars[pos] == '9' ? 'a' : chars[pos] + 1);
        } else {
            chars[pos] = chars[pos] == '0' ? '1' : '0';
        }
        String changed = new String(chars);
        if (!changed.equals(hint)) {
            List<String> hints = new ArrayList<>(signed.withoutSignature().hints());
            hints.add(changed);
            assertEquals(BlobSigner.Verdict.INVALID, signer.check(new Locator(hash, 10, hints), token), changed);
        }
    }

    @Property(tries = 500)
    void expiredSignaturesAreExpiredEvenWhenForged(@ForAll("hashes") String hash, @ForAll("hex40") String mac,
                                                   @ForAll @IntRange(min = 1, max = 1_000_000_000) int secondsAgo) {
        long expiry = Math.max(0, NOW.getEpochSecond() - secondsAgo);
        String hint = "A" + mac + "@" + String.format("%08x", expiry);
        assertEquals(BlobSigner.Verdict.EXPIRED, signer.check(new Locator(hash, -1, List.of(hint)), "token"));
    }

    private void verifyThrowsOnly400Or401(Locator locator, String token) {
        try {
            signer.verify(locator, token);
        } catch (KeepException e) {
            assertTrue(e.status() == 400 || e.status() == 401, e.status() + " " + e.getMessage());
        }
    }

    @Provide
    Arbitrary<String> hashes() {
        return Arbitraries.strings().withChars("0123456789abcdef").ofLength(32);
    }

    @Provide
    Arbitrary<String> hex40() {
        return Arbitraries.strings().withChars("0123456789abcdef").ofLength(40);
    }

    /** What may follow the "A" of a permission hint: near-valid shapes and plain noise. */
    @Provide
    Arbitrary<String> hintText() {
        Arbitrary<String> hex = Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofMinLength(0).ofMaxLength(48);
        return Arbitraries.oneOf(
                hex.map(h -> h + "@" + "7fffffff"),
                Arbitraries.strings().withChars("0123456789abcdef").ofLength(40).map(h -> h + "@ffffffff"),
                Arbitraries.strings().withChars("0123456789abcdef").ofLength(40).map(h -> h + "@-0000001"),
                Arbitraries.strings().withChars("0123456789abcdef@xyz-").ofMaxLength(60),
                Arbitraries.strings().ofMaxLength(60).filter(s -> !s.contains("+") && !s.isEmpty()),
                Arbitraries.strings().withChars("0123456789abcdef").ofLength(40)
                        .map(h -> h + "@" + "0".repeat(7)),
                Arbitraries.strings().withChars("0123456789abcdef").ofLength(40)
                        .map(h -> h + "@" + "f".repeat(16)))
                .filter(s -> !s.contains("+"));
    }
}
