package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocatorTest {
    private static final String H = Locator.EMPTY_BLOCK_HASH;

    @ParameterizedTest
    @ValueSource(strings = {
            H, H + "+0", H + "+0+Afoo", H + "+Zfoo", H + "+Afoo", H + "+12345+K@zzzzz+Rzzzzz-abc+Zx",
            H + "+3+\u0663x", // starts with a digit, but not an ASCII one: an ordinary hint
            "0123456789abcdef0123456789abcdef+67108864"})
    void validLocators(String text) throws KeepException {
        Locator l = Locator.parse(text);
        assertEquals(text, l.toString(), "parse and format round trip");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "d41d8cd98f00b204e9800998ecf8427", // 31 hex
            "d41d8cd98f00b204e9800998ecf8427e0", // 33 hex
            "D41D8CD98F00B204E9800998ECF8427E", // uppercase
            "d41d8cd98f00b204e9800998ecf8427E", // one uppercase digit
            "g41d8cd98f00b204e9800998ecf8427e", // not hex
            H + "+", // trailing +
            H + "++0", // doubled +
            "+" + H, // leading +
            H + "+0+", H + "+0++Afoo",
            H + "+Afoo+0", // size after another hint
            H + "+0+1", // a second decimal hint
            H + "+3+5Z", H + "+Afoo+5Z", // a later hint starting like a size (as the reference reads it)
            H + "0", H + " +0",
            H + "+99999999999999999999999"}) // size does not fit
    void invalidLocators(String text) {
        KeepException e = assertThrows(KeepException.class, () -> Locator.parse(text));
        assertEquals(400, e.status());
        assertEquals(KeepException.INVALID_LOCATOR, e.getMessage());
    }

    @Test
    void nullIsInvalid() {
        assertEquals(400, assertThrows(KeepException.class, () -> Locator.parse(null)).status());
    }

    @Test
    void partsAreClassified() throws KeepException {
        Locator l = Locator.parse(H + "+3+Kzzzzz+Afoo@1234+Rabcde-xyz+Zbar+Asecond");
        assertEquals(H, l.hash());
        assertEquals(3, l.size());
        assertTrue(l.hasSize());
        assertEquals(List.of("Kzzzzz", "Afoo@1234", "Rabcde-xyz", "Zbar", "Asecond"), l.hints());
        assertEquals("Afoo@1234", l.signatureHint());
        assertEquals("Rabcde-xyz", l.remoteHint());
        assertEquals(H + "+3", l.hashAndSize());
        assertEquals(H + "+3+Kzzzzz+Rabcde-xyz+Zbar", l.withoutSignature().toString());
    }

    @Test
    void sizeIsOptional() throws KeepException {
        Locator l = Locator.parse(H + "+Afoo");
        assertEquals(-1, l.size());
        assertFalse(l.hasSize());
        assertEquals(H, l.hashAndSize());
        assertNull(Locator.parse(H).signatureHint());
        assertNull(Locator.parse(H).remoteHint());
    }

    @Test
    void constructors() throws KeepException {
        assertEquals(H + "+0", Locator.of(H, 0).toString());
        assertEquals(H, Locator.ofHash(H).toString());
        assertThrows(IllegalArgumentException.class, () -> Locator.of("abc", 0));
        assertThrows(IllegalArgumentException.class, () -> Locator.of(H, -2));
        // Hints that would print as a locator parse() refuses or reads differently.
        for (String badHint : List.of("", "5", "a+b", "5Z")) {
            assertThrows(IllegalArgumentException.class, () -> new Locator(H, 3, List.of(badHint)), badHint);
        }
        // Where a size could stand, a hint that only starts like one is a hint (no size), as parsed.
        assertEquals(Locator.parse(H + "+3a"), new Locator(H, -1, List.of("3a")));
        assertThrows(IllegalArgumentException.class, () -> new Locator(H, -1, List.of("Afoo", "3a")));
        assertEquals(H + "+3+Afoo+Kbar", new Locator(H, 3, List.of("Afoo", "Kbar")).toString());
    }

    @Test
    void isHash() {
        assertTrue(Locator.isHash(H));
        assertFalse(Locator.isHash(H.toUpperCase()));
        assertFalse(Locator.isHash(H.substring(1)));
        assertFalse(Locator.isHash(null));
    }

    @Property
    void formattedLocatorsParseBack(@ForAll @StringLength(value = 32) String ignored,
                                    @ForAll @LongRange(min = 0, max = Locator.MAX_BLOCK_SIZE) long size) throws KeepException {
        String hash = Integer.toHexString(ignored.hashCode()).repeat(8).substring(0, 8)
                + H.substring(8);
        Locator l = Locator.of(hash, size);
        assertEquals(l, Locator.parse(l.toString()));
    }
}
