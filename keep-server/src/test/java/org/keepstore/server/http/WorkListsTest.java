package org.keepstore.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.keepstore.core.KeepException;
import org.keepstore.core.worker.PullItem;
import org.keepstore.core.worker.TrashItem;

/** The lists keep-balance sends, parsed item by item. */
class WorkListsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HASH = "acbd18db4cc2f85cedef654fccc4a4d8";

    private static InputStream body(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    private static int status(String text) {
        return assertThrows(KeepException.class,
                () -> WorkLists.readList(JSON, body(text), WorkLists::trashItem)).status();
    }

    @Test
    void itemsAreReadInOrderAndNullIsAnEmptyList() throws IOException {
        List<PullItem> pulls = WorkLists.readList(JSON, body(
                "[{\"locator\":\"" + HASH + "+3\",\"servers\":[\"http://a:25107\"],\"mount_uuid\":\"\"},"
                        + "{\"locator\":\"" + HASH + "+3+A0@1\",\"servers\":null}]"), WorkLists::pullItem);
        assertEquals(2, pulls.size());
        assertEquals(HASH + "+3", pulls.get(0).locator());
        assertEquals(List.of("http://a:25107"), pulls.get(0).servers());
        assertEquals(HASH + "+3", pulls.get(1).locator(), "signatures are dropped");
        assertEquals(List.of(), WorkLists.readList(JSON, body("null"), WorkLists::trashItem));
        assertEquals(List.of(), WorkLists.readList(JSON, body(" [ ] "), WorkLists::trashItem));
    }

    @Test
    void aTrashItemWithoutBlockMtimeIsReadAsZeroAsTheReferenceDoes() throws IOException {
        // Such an item matches no stored block, so it trashes nothing; the rest of the list stands.
        List<TrashItem> items = WorkLists.readList(JSON, body("[{\"locator\":\"" + HASH + "+3\"},"
                + "{\"locator\":\"" + HASH + "\",\"block_mtime\":null},"
                + "{\"locator\":\"" + HASH + "\",\"block_mtime\":5}]"), WorkLists::trashItem);
        assertEquals(List.of(0L, 0L, 5L), items.stream().map(TrashItem::blockMtimeNanos).toList());
    }

    @Test
    void malformedListsAreTheClientsMistake() {
        assertEquals(400, status(""));
        assertEquals(400, status("{}"));
        assertEquals(400, status("[1]"));
        assertEquals(400, status("[{\"locator\":\"" + HASH + "\",\"block_mtime\":\"1\"}]"), "block_mtime a string");
        assertEquals(400, status("[{\"locator\":\"" + HASH + "\",\"block_mtime\":1.5}]"), "block_mtime not whole");
        assertEquals(400, status("[{\"locator\":\"" + HASH + "\",\"block_mtime\":1}"), "not closed");
        assertEquals(400, status("[{\"locator\":\"" + HASH + "\",\"block_mtime\":1},"), "cut off");
        assertEquals(400, status("[{\"locator\":\"nothex\",\"block_mtime\":1}]"));
        KeepException noSize = assertThrows(KeepException.class, () -> WorkLists.readList(JSON,
                body("[{\"locator\":\"" + HASH + "\",\"servers\":[]}]"), WorkLists::pullItem));
        assertTrue(noSize.getMessage().contains("size hint"), noSize.getMessage());
    }

    @Test
    void aLongListIsReadWhole() throws IOException {
        int n = 200_000;
        byte[] item = ("{\"locator\":\"" + HASH + "+3\",\"block_mtime\":1700000000000000000,\"mount_uuid\":\"\"}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] comma = {','};
        List<InputStream> parts = new java.util.ArrayList<>();
        parts.add(body("["));
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                parts.add(new ByteArrayInputStream(comma));
            }
            parts.add(new ByteArrayInputStream(item));
        }
        parts.add(body("]"));
        List<TrashItem> items = WorkLists.readList(JSON, new SequenceInputStream(Collections.enumeration(parts)),
                WorkLists::trashItem);
        assertEquals(n, items.size());
        assertEquals(1700000000000000000L, items.get(n - 1).blockMtimeNanos());
    }
}
