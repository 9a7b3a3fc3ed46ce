package org.keepstore.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RequestLogTest {
    @Test
    void signaturesAndTokensAreRedacted() {
        String sig = "A" + "1".repeat(40) + "@5f000000";
        String shown = RequestLog.redact("/acbd18db4cc2f85cedef654fccc4a4d8+3+" + sig + "+Kzzzzz",
                "api_token=secret-token&prefix=ab");
        assertEquals("/acbd18db4cc2f85cedef654fccc4a4d8+3+A***@5f000000+Kzzzzz?api_token=***&prefix=ab", shown);
        assertTrue(!shown.contains("secret-token"));
    }

    @Test
    void aTokenParameterIsRedactedHoweverItsNameIsEncoded() {
        // The server decodes parameter names, so each of these carries a token it would use.
        for (String query : new String[] {"api%5ftoken=secret-token", "%61pi_token=secret-token",
            "API_TOKEN=secret-token", "x=1&api_token=secret-token&api_token=secret-token"}) {
            String shown = RequestLog.redact("/index", query);
            assertFalse(shown.contains("secret-token"), shown);
        }
        assertEquals("/x?prefix=ab&a=+A***@5f000000&b=x+3+A***@5f000000",
                RequestLog.redact("/x", "prefix=ab&a=%2BA" + "1".repeat(40) + "@5f000000&b=x+3+A"
                        + "2".repeat(40) + "@5f000000"));
    }

    @Test
    void aRequestCannotAddLinesOrFieldsToTheLog() {
        assertEquals("/acbd18db4cc2f85cedef654fccc4a4d8+3+Z%0A2026%20INFO%20forged%1B%00",
                RequestLog.redact("/acbd18db4cc2f85cedef654fccc4a4d8+3+Z\n2026 INFO forged\u001b\u0000", null));
        assertEquals("/index?prefix=a%0Ab", RequestLog.redact("/index", "prefix=a%0Ab"));
        assertEquals("abc%20200%20forged", RequestLog.escape("abc 200 forged"));
        assertEquals("a%85b%u2028c%u2029d", RequestLog.escape("a\u0085b\u2028c\u2029d"), "Unicode line breaks too");
        assertFalse(RequestLog.redact("/x", "%2BA" + "1".repeat(40) + "@5f000000=1").contains("1111"),
                "a signature in a parameter's name");
        assertEquals("req-0123456789abcdefghij", RequestLog.escape("req-0123456789abcdefghij"));
    }

    @Test
    void remoteClusterSignaturesAreRedactedToo() {
        String shown = RequestLog.redact("/acbd18db4cc2f85cedef654fccc4a4d8+3+Rzzzzz-" + "8e".repeat(20) + "@6b06b152", null);
        assertEquals("/acbd18db4cc2f85cedef654fccc4a4d8+3+Rzzzzz-***@6b06b152", shown);
    }

    @Test
    void requestIdsLookLikeTheReference() {
        String id = new RequestLog().newRequestId();
        assertTrue(id.matches("req-[0-9a-z]{20}"), id);
    }

    @Test
    void durationsHaveThreeDecimals() {
        assertEquals("0.000", RequestLog.milliseconds(0));
        assertEquals("0.007", RequestLog.milliseconds(7_000));
        assertEquals("0.042", RequestLog.milliseconds(41_600));
        assertEquals("12.345", RequestLog.milliseconds(12_345_000));
        assertEquals("1500.000", RequestLog.milliseconds(1_500_000_000L));
    }
}
