package org.keepstore.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;

/** Hostile input to {@link Locator#parse}: it only ever returns a locator or throws 400. */
class LocatorPropertiesTest {

    @Property(tries = 3000)
    void anyStringParsesOrIsA400(@ForAll @StringLength(max = 200) String text) {
        parseOr400(text);
    }

    @Property(tries = 3000)
    void anyLocatorShapedStringParsesOrIsA400(@ForAll("locatorShaped") String text) {
        Locator parsed = parseOr400(text);
        if (parsed != null) {
            assertTrue(Locator.isHash(parsed.hash()));
            // The printed form is canonical (a size "+007" prints as "+7") and parses to the same locator.
            assertEquals(parsed, parseOr400(parsed.toString()), "the printed form parses back the same");
            assertEquals(text.length() == 32 ? text : text.substring(0, 32), parsed.hash());
            assertTrue(parsed.size() >= -1);
            for (String hint : parsed.hints()) {
                assertTrue(!hint.isEmpty() && !hint.contains("+") && !hint.chars().allMatch(Character::isDigit), hint);
            }
        }
    }

    @Property(tries = 1000)
    void validLocatorsRoundTrip(@ForAll("hashes") String hash, @ForAll("sizes") long size,
                                @ForAll("hintLists") List<String> hints) throws KeepException {
        Locator made = new Locator(hash, size, hints);
        assertEquals(made, Locator.parse(made.toString()));
    }

    @Property(tries = 1000)
    void everySpecRuleRejects(@ForAll("hashes") String hash, @ForAll("hintLists") List<String> hints,
                              @ForAll @CharRange(from = 'a', to = 'f') char letter) {
        String tail = hints.isEmpty() ? "" : "+" + String.join("+", hints);
        String upper = hash.replaceFirst("[a-f]", String.valueOf(Character.toUpperCase(letter)));
        if (!upper.equals(hash)) {
            assertRejected(upper + tail);
        }
        assertRejected(hash.substring(1) + tail);                 // 31 hex chars
        assertRejected(hash + "0" + tail);                       // 33 hex chars
        assertRejected(hash + tail + "+");                       // trailing +
        assertRejected(hash + "++" + tail);                      // doubled +
        assertRejected("+" + hash + tail);                       // leading +
        if (!hints.isEmpty()) {
            assertRejected(hash + tail + "+0");                  // a size after another hint
        }
    }

    private static Locator parseOr400(String text) {
        try {
            return Locator.parse(text);
        } catch (KeepException e) {
            assertEquals(400, e.status(), text);
            assertEquals(KeepException.INVALID_LOCATOR, e.getMessage());
            return null;
        }
    }

    private static void assertRejected(String text) {
        KeepException e = assertThrows(KeepException.class, () -> Locator.parse(text), text);
        assertEquals(400, e.status());
    }

    @Provide
    Arbitrary<String> hashes() {
        return Arbitraries.strings().withChars("0123456789abcdef").ofLength(32);
    }

    @Provide
    Arbitrary<Long> sizes() {
        return Arbitraries.oneOf(Arbitraries.just(-1L), Arbitraries.longs().between(0, Long.MAX_VALUE));
    }

    @Provide
    Arbitrary<List<String>> hintLists() {
        Arbitrary<String> hint = Combinators.combine(
                Arbitraries.of("A", "K", "R", "Z", "B", "x"),
                Arbitraries.strings().withChars("0123456789abcdef@-_.:ABCXYZ").ofMaxLength(60))
                .as((kind, rest) -> kind + rest);
        return hint.list().ofMaxSize(4);
    }

    /** Strings built from the pieces a locator is made of, so most are near misses. */
    @Provide
    Arbitrary<String> locatorShaped() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.strings().withChars("0123456789abcdef").ofMinLength(28).ofMaxLength(36),
                Arbitraries.strings().withChars("0123456789").ofMaxLength(22),
                Arbitraries.of("+", "++", "A", "@", "R", "K", "Z", "-", "0", " ", "\u00e9", "%2b", "\u0000", ""),
                Arbitraries.strings().withChars("0123456789abcdefABCDEF@+").ofMaxLength(50));
        return piece.list().ofMinSize(1).ofMaxSize(8).map(parts -> String.join("", parts));
    }
}
