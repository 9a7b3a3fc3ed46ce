package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.keepstore.core.BlobSigner.Verdict;
import org.keepstore.core.testing.MutableClock;

class BlobSignerTest {
    private static final String HASH = "acbd18db4cc2f85cedef654fccc4a4d8";
    private static final Duration TWO_WEEKS = Duration.ofSeconds(1209600);

    // The vector the Arvados SDKs test against; the expected value was recomputed independently:
    //   printf '%s' 'acbd18db4cc2f85cedef654fccc4a4d8@hocfupkn...@7fffffff@127500' | openssl dgst -sha1 -hmac KEY
    private static final String KNOWN_TOKEN = "hocfupkn2pjhrpgp2vxv8rsku7tvtx49arbc9s4bvu7p7wxqvk";
    private static final String KNOWN_KEY = "13u9fkuccnboeewr0ne3mvapk28epf68a3bhj9q8sb4l6e4e5mkk"
            + "p6nhj2mmpscgu1zze5h5enydxfe3j215024u16ij4hjaiqs5u4pzsl3nczmaoxnc"
            + "ljkm4875xqn4xv058koz3vkptmzhyheiy6wzevzjmdvxhvcqsvr5abhl15c2d4o4"
            + "jhl0s91lojy1mtrzqqvprqcverls0xvy9vai9t1l1lvvazpuadafm71jl4mrwq2y"
            + "gokee3eamvjy8qq1fvy238838enjmy5wzy2md7yvsitp5vztft6j4q866efym7e6"
            + "vu5wm9fpnwjyxfldw3vbo01mgjs75rgo7qioh8z8ij7jpyp8508okhgbbex3ceei"
            + "786u5rw2a9gx743dj3fgq2irk";
    private static final String KNOWN_SIGNATURE = "89118b78732c33104a4d6231e8b5a5fa1e4301e3";

    private final MutableClock clock = new MutableClock(Instant.ofEpochSecond(1_600_000_000L));

    private BlobSigner signer(String key) {
        return new BlobSigner(key.getBytes(StandardCharsets.UTF_8), TWO_WEEKS, clock);
    }

    @Test
    void knownVector() throws KeepException {
        BlobSigner s = signer(KNOWN_KEY);
        assertEquals("A" + KNOWN_SIGNATURE + "@7fffffff", s.signatureHint(HASH, KNOWN_TOKEN, 0x7fffffffL));
        Locator signed = Locator.parse(HASH + "+3+A" + KNOWN_SIGNATURE + "@7fffffff");
        assertEquals(Verdict.VALID, s.check(signed, KNOWN_TOKEN));
    }

    @Test
    void vectorComputedWithOpenssl() {
        // printf '%s' 'acbd18db4cc2f85cedef654fccc4a4d8@mytoken@5f5e1000@127500' | openssl dgst -sha1 -hmac secret-key
        assertEquals("Ab9c98ecf04594f99da061ee4beecf72b2a667f06@5f5e1000",
                signer("secret-key").signatureHint(HASH, "mytoken", 0x5f5e1000L));
        // The TTL is part of the signed text, in unpadded hex: 3600 s = "e10".
        // printf '%s' 'd41d8cd98f00b204e9800998ecf8427e@tok@00000e10@e10' | openssl dgst -sha1 -hmac k
        BlobSigner hourly = new BlobSigner("k".getBytes(StandardCharsets.UTF_8), Duration.ofHours(1), clock);
        assertEquals("A476f1a23a39af44ac1749d3afb00fd5ddb7729ff@00000e10",
                hourly.signatureHint(Locator.EMPTY_BLOCK_HASH, "tok", 0xe10L));
    }

    @Test
    void signRoundTripWithExpiryNowPlusTtl() throws KeepException {
        BlobSigner s = signer("key");
        Locator signed = s.sign(Locator.of(HASH, 3), "tok");
        assertEquals(1, signed.hints().size());
        String hint = signed.signatureHint();
        assertEquals(String.format("%08x", 1_600_000_000L + 1209600), hint.substring(hint.indexOf('@') + 1));
        assertEquals(Verdict.VALID, s.check(signed, "tok"));
        s.verify(signed, "tok");
        assertEquals(HASH + "+3+" + hint, signed.toString());
    }

    @Test
    void signReplacesAnOldSignatureAndKeepsOtherHints() throws KeepException {
        BlobSigner s = signer("key");
        Locator old = Locator.parse(HASH + "+3+K@zzzzz+A" + "0".repeat(40) + "@00000001");
        Locator signed = s.sign(old, "tok");
        assertEquals(2, signed.hints().size());
        assertEquals("K@zzzzz", signed.hints().get(0));
        assertEquals(Verdict.VALID, s.check(signed, "tok"));
    }

    @Test
    void onlyTheHashIsSigned() throws KeepException {
        BlobSigner s = signer("key");
        String hint = s.sign(Locator.of(HASH, 3), "tok").signatureHint();
        assertEquals(Verdict.VALID, s.check(Locator.parse(HASH + "+" + hint), "tok"));
        assertEquals(Verdict.VALID, s.check(Locator.parse(HASH + "+99+Zfoo+" + hint + "+Kbar"), "tok"));
    }

    @Test
    void verdicts() throws KeepException {
        BlobSigner s = signer("key");
        Locator signed = s.sign(Locator.of(HASH, 3), "tok");
        assertEquals(Verdict.MISSING, s.check(Locator.of(HASH, 3), "tok"));
        assertEquals(Verdict.INVALID, s.check(signed, "other-token"));
        assertEquals(Verdict.INVALID, signer("other-key").check(signed, "tok"));
        assertEquals(Verdict.INVALID, s.check(new Locator("0".repeat(32), 3, signed.hints()), "tok"));
        String sig = signed.signatureHint().substring(1, 41);
        String exp = signed.signatureHint().substring(42);
        for (String bad : List.of("A", "Afoo", "A" + sig, "A" + sig + "@", "A" + sig + "@" + exp + "0",
                "A" + sig.substring(1) + "@" + exp, "A" + sig + "x@" + exp, "A" + sig + "@" + exp.substring(1),
                "A" + sig + "@0000000g", "A" + sig.replace(sig.charAt(0), 'g') + "@" + exp)) {
            assertEquals(Verdict.INVALID, s.check(Locator.parse(HASH + "+3+" + bad), "tok"), bad);
        }
        // A changed expiry invalidates the MAC.
        String later = String.format("%08x", Long.parseLong(exp, 16) + 1);
        assertEquals(Verdict.INVALID, s.check(Locator.parse(HASH + "+3+A" + sig + "@" + later), "tok"));
        // The right MAC in uppercase hex, or with its expiry in uppercase: the reference refuses both.
        assertTrue(sig.matches(".*[a-f].*") || exp.matches(".*[a-f].*"), "the test needs a hex letter");
        if (sig.matches(".*[a-f].*")) {
            assertEquals(Verdict.INVALID, s.check(Locator.parse(HASH + "+3+A" + sig.toUpperCase() + "@" + exp), "tok"));
        }
        if (exp.matches(".*[a-f].*")) {
            assertEquals(Verdict.INVALID, s.check(Locator.parse(HASH + "+3+A" + sig + "@" + exp.toUpperCase()), "tok"));
        }
        // Two signatures: invalid, whichever comes first (the answer must not depend on order).
        String good = signed.signatureHint();
        String wrong = "A" + "0".repeat(40) + "@" + exp;
        assertEquals(Verdict.INVALID, s.check(Locator.parse(HASH + "+3+" + good + "+" + wrong), "tok"));
        assertEquals(Verdict.INVALID, s.check(Locator.parse(HASH + "+3+" + wrong + "+" + good), "tok"));
        assertEquals(Verdict.INVALID, s.check(Locator.parse(HASH + "+3+" + good + "+" + good), "tok"));
    }

    @Test
    void expiryIsCheckedBeforeTheMac() throws KeepException {
        BlobSigner s = signer("key");
        Locator signed = s.sign(Locator.of(HASH, 3), "tok");
        clock.advance(TWO_WEEKS);
        assertEquals(Verdict.VALID, s.check(signed, "tok"), "valid up to and including the expiry second");
        clock.advance(Duration.ofSeconds(1));
        assertEquals(Verdict.EXPIRED, s.check(signed, "tok"));
        // An expired signature that is also wrong is reported as expired.
        assertEquals(Verdict.EXPIRED, s.check(Locator.parse(HASH + "+3+A" + "0".repeat(40) + "@00000001"), "tok"));
    }

    @Test
    void verifyMapsVerdictsToStatuses() throws KeepException {
        BlobSigner s = signer("key");
        Locator signed = s.sign(Locator.of(HASH, 3), "tok");
        assertStatus(401, KeepException.NO_TOKEN, () -> s.verify(signed, null));
        assertStatus(401, KeepException.NO_TOKEN, () -> s.verify(signed, ""));
        assertStatus(400, KeepException.INVALID_SIGNATURE, () -> s.verify(Locator.of(HASH, 3), "tok"));
        assertStatus(400, KeepException.INVALID_SIGNATURE, () -> s.verify(signed, "wrong"));
        clock.advance(TWO_WEEKS.plusSeconds(1));
        assertStatus(401, KeepException.EXPIRED_SIGNATURE, () -> s.verify(signed, "tok"));
    }

    @Test
    void rejectsEmptyKey() {
        assertThrows(IllegalArgumentException.class, () -> new BlobSigner(new byte[0], TWO_WEEKS, clock));
    }

    @Test
    void differentKeysGiveDifferentSignatures() {
        assertNotEquals(signer("a").signatureHint(HASH, "t", 1), signer("b").signatureHint(HASH, "t", 1));
    }

    private static void assertStatus(int status, String message, org.junit.jupiter.api.function.Executable call) {
        KeepException e = assertThrows(KeepException.class, call);
        assertEquals(status, e.status());
        assertEquals(message, e.getMessage());
    }
}
