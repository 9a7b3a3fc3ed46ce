package org.keepstore.reliability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The server's mounts as {@code GET /mounts} lists them, and the rendezvous order of SPEC §4. */
final class Mounts {
    record MountInfo(String uuid, String deviceId) {
    }

    private Mounts() {
    }

    static List<MountInfo> list(Http http, String adminToken) throws Exception {
        Http.Response r = http.get("/mounts", "Authorization", "Bearer " + adminToken);
        if (r.status() != 200) {
            throw new AssertionError("GET /mounts: " + r.status() + " " + r.text());
        }
        List<MountInfo> mounts = new ArrayList<>();
        for (JsonNode m : new ObjectMapper().readTree(r.body())) {
            mounts.add(new MountInfo(m.get("uuid").asText(), m.get("device_id").asText()));
        }
        return mounts;
    }

    /** The mounts in the order a write of {@code hash} tries them (all of one priority here). */
    static List<MountInfo> rendezvous(String hash, List<MountInfo> mounts) {
        return mounts.stream().sorted(Comparator.comparing(m -> {
            String s = m.uuid().length() == 27 ? m.uuid().substring(12) : m.uuid();
            return Http.md5((hash + s).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        })).toList();
    }
}
