package org.keepstore.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
