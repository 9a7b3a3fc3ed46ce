package org.keepstore.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;
import org.keepstore.core.worker.PullItem;
import org.keepstore.core.worker.TrashItem;

/**
 * Parses and validates the JSON lists keep-balance sends ({@code PUT /pull}, {@code PUT /trash}).
 * Anything malformed is a 400 naming the problem; nothing is queued from a list with one bad item.
 */
final class WorkLists {
    private WorkLists() {
    }

    /** The body as a JSON array; 400 if it is not JSON or not an array. */
    static JsonNode readArray(ObjectMapper json, InputStream body) throws IOException {
        JsonNode list;
        try {
            list = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw KeepException.badRequest("invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // Only the client's body is read here: a body that breaks off is the client's fault.
            throw KeepException.badRequest("request body ended early: " + e.getMessage());
        }
        if (list != null && list.isNull()) {
            // keep-balance sends an empty list as JSON null (Go encodes a nil slice so) to clear
            // the queue of a server with nothing to do; Go's decoder reads it as an empty list.
            return json.createArrayNode();
        }
        if (list == null || !list.isArray()) {
            throw KeepException.badRequest("invalid JSON: expected a list");
        }
        return list;
    }

    /** {@code [{"locator":"HASH+SIZE","servers":[…],"mount_uuid":""}]}; every locator needs a size hint. */
    static List<PullItem> pullItems(JsonNode list) throws KeepException {
        List<PullItem> items = new ArrayList<>(list.size());
        for (JsonNode node : list) {
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
            items.add(new PullItem(locator.withoutSignature().toString(), servers, mountUuid(node)));
        }
        return items;
    }

    /** {@code [{"locator":"…","block_mtime":NANOS,"mount_uuid":""}]}. */
    static List<TrashItem> trashItems(JsonNode list) throws KeepException {
        List<TrashItem> items = new ArrayList<>(list.size());
        for (JsonNode node : list) {
            if (!node.isObject()) {
                throw KeepException.badRequest("trash list items must be objects");
            }
            Locator locator = locator(node);
            JsonNode mtime = node.get("block_mtime");
            if (mtime == null || !mtime.isIntegralNumber() || !mtime.canConvertToLong()) {
                throw KeepException.badRequest("trash list item: block_mtime must be an integer");
            }
            items.add(new TrashItem(locator.withoutSignature().toString(), mtime.longValue(), mountUuid(node)));
        }
        return items;
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
