package org.keepstore.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;
import org.keepstore.core.worker.PullItem;
import org.keepstore.core.worker.TrashItem;

/**
 * Parses and validates the JSON lists keep-balance sends ({@code PUT /pull}, {@code PUT /trash}).
 * Anything malformed is a 400 naming the problem; nothing is queued from a list with one bad item.
 * Lists are parsed item by item: a list of millions of blocks costs the heap its items, not a
 * JSON tree several times their size.
 */
final class WorkLists {
    private WorkLists() {
    }

    /** Turns one item of a list into what is queued; a 400 {@link KeepException} if it is malformed. */
    interface ItemReader<T> {
        T read(JsonNode item) throws KeepException;
    }

    /**
     * The items of the JSON list in the body, each converted as soon as it is parsed, so that a
     * list of millions of entries is never held as one JSON tree; 400 if the body is not JSON,
     * not a list, or has a bad item.
     */
    static <T> List<T> readList(ObjectMapper json, InputStream body, ItemReader<T> reader) throws IOException {
        List<T> items = new ArrayList<>();
        try (JsonParser parser = json.getFactory().createParser(body)) {
            JsonToken first = parser.nextToken();
            if (first == JsonToken.VALUE_NULL) {
                // keep-balance sends an empty list as JSON null (Go encodes a nil slice so) to clear
                // the queue of a server with nothing to do; Go's decoder reads it as an empty list.
                return items;
            }
            if (first != JsonToken.START_ARRAY) {
                throw KeepException.badRequest("invalid JSON: expected a list");
            }
            while (parser.nextToken() != JsonToken.END_ARRAY) {
                JsonNode item = parser.readValueAsTree();
                if (item == null) {
                    throw KeepException.badRequest("invalid JSON: the list is not closed");
                }
                items.add(reader.read(item));
            }
        } catch (KeepException e) {
            throw e;
        } catch (JsonProcessingException e) {
            throw KeepException.badRequest("invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // Only the client's body is read here: a body that breaks off is the client's fault.
            throw KeepException.badRequest("request body ended early: " + e.getMessage());
        }
        return items;
    }

    /** {@code [{"locator":"HASH+SIZE","servers":[…],"mount_uuid":""}]}; every locator needs a size hint. */
    static PullItem pullItem(JsonNode node) throws KeepException {
        if (!node.isObject()) {
            throw KeepException.badRequest("pull list items must be objects");
        }
        Locator locator = locator(node);
        if (!locator.hasSize()) {
            throw KeepException.badRequest("pull list item without size hint: " + locator.hashAndSize());
        }
        List<String> servers = new ArrayList<>();
        JsonNode serversNode = node.get("servers");
        if (serversNode != null && !serversNode.isNull()) {
            if (!serversNode.isArray()) {
                throw KeepException.badRequest("pull list item: servers must be a list");
            }
            for (JsonNode server : serversNode) {
                if (!server.isTextual()) {
                    throw KeepException.badRequest("pull list item: servers must be strings");
                }
                servers.add(server.asText());
            }
        }
        return new PullItem(locator.withoutSignature().toString(), servers, mountUuid(node));
    }

    /** {@code [{"locator":"…","block_mtime":NANOS,"mount_uuid":""}]}. */
    static TrashItem trashItem(JsonNode node) throws KeepException {
        if (!node.isObject()) {
            throw KeepException.badRequest("trash list items must be objects");
        }
        Locator locator = locator(node);
        JsonNode mtime = node.get("block_mtime");
        if (mtime == null || mtime.isNull()) {
            // As the reference reads it (Go's zero value): an item that matches no stored block.
            return new TrashItem(locator.withoutSignature().toString(), 0, mountUuid(node));
        }
        if (!mtime.isIntegralNumber() || !mtime.canConvertToLong()) {
            throw KeepException.badRequest("trash list item: block_mtime must be an integer");
        }
        return new TrashItem(locator.withoutSignature().toString(), mtime.longValue(), mountUuid(node));
    }

    private static Locator locator(JsonNode node) throws KeepException {
        JsonNode locator = node.get("locator");
        if (locator == null || !locator.isTextual()) {
            throw KeepException.badRequest("list item without locator");
        }
        return Locator.parse(locator.asText());
    }

    private static String mountUuid(JsonNode node) throws KeepException {
        JsonNode uuid = node.get("mount_uuid");
        if (uuid == null || uuid.isNull()) {
            return "";
        }
        if (!uuid.isTextual()) {
            throw KeepException.badRequest("mount_uuid must be a string");
        }
        return uuid.asText();
    }
}
