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
    void requestIdsLookLikeTheReference() {
        String id = new RequestLog().newRequestId();
        assertTrue(id.matches("req-[0-9a-z]{20}"), id);
    }
}
