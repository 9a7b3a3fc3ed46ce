package org.keepstore.volumes.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeDriver;

class S3VolumeConfigTest {
    static final String SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";

    private static Map<String, Object> params(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void defaultsFollowTheReference() {
        S3VolumeConfig c = S3VolumeConfig.parse(params("Bucket", "b", "Endpoint", "http://127.0.0.1:9000"));
        assertEquals("us-east-1", c.region());
        assertEquals(0, c.prefixLength());
        assertEquals(Duration.ofHours(24), c.raceWindow());
        assertEquals(1000, c.indexPageSize());
        assertEquals(Duration.ofMinutes(1), c.connectTimeout());
        assertEquals(Duration.ofMinutes(10), c.readTimeout());
        assertFalse(c.unsafeDelete());
        assertFalse(c.usePathStyle());
        assertNull(c.accessKeyId(), "no keys: the SDK's default credential chain");
        assertEquals("s3://http://127.0.0.1:9000/b", c.deviceId());
    }

    @Test
    void parsesEveryParameter() {
        S3VolumeConfig c = S3VolumeConfig.parse(params("Bucket", "b", "Region", "eu-west-1", "AccessKeyID", "AKID",
                "SecretAccessKey", SECRET, "UsePathStyle", true, "PrefixLength", 3, "RaceWindow", "1h30m",
                "IndexPageSize", "50", "ConnectTimeout", "5s", "ReadTimeout", "2m", "UnsafeDelete", "true"));
        assertEquals("eu-west-1", c.region());
        assertNull(c.endpoint());
        assertEquals("s3:///b", c.deviceId(), "as the reference: s3:// + endpoint + / + bucket");
        assertTrue(c.usePathStyle());
        assertEquals(3, c.prefixLength());
        assertEquals(Duration.ofMinutes(90), c.raceWindow());
        assertEquals(50, c.indexPageSize());
        assertEquals(Duration.ofSeconds(5), c.connectTimeout());
        assertEquals(Duration.ofMinutes(2), c.readTimeout());
        assertTrue(c.unsafeDelete());
    }

    @Test
    void rejectsBadParametersNamingThemButNotSecrets() {
        assertThrows(IllegalArgumentException.class, () -> S3VolumeConfig.parse(params("Endpoint", "http://x")));
        assertThrows(IllegalArgumentException.class, () -> S3VolumeConfig.parse(params("Bucket", "b")),
                "region or endpoint needed");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> S3VolumeConfig.parse(params("Bucket", "b", "Region", "r", "SecretAccessKey", SECRET)));
        assertFalse(e.getMessage().contains(SECRET));
        assertThrows(IllegalArgumentException.class,
                () -> S3VolumeConfig.parse(params("Bucket", "b", "Region", "r", "PrefixLength", -1)));
        assertThrows(IllegalArgumentException.class,
                () -> S3VolumeConfig.parse(params("Bucket", "b", "Region", "r", "RaceWindow", "24")));
        assertThrows(IllegalArgumentException.class,
                () -> S3VolumeConfig.parse(params("Bucket", "b", "Region", "r", "IndexPageSize", 0)));
        assertThrows(IllegalArgumentException.class,
                () -> S3VolumeConfig.parse(params("Bucket", "b", "Endpoint", "ftp://host")));
        assertThrows(IllegalArgumentException.class,
                () -> S3VolumeConfig.parse(params("Bucket", "b", "Endpoint", "http://AKID:" + SECRET + "@host")));
    }

    @Test
    void bareHostEndpointMeansHttps() {
        S3VolumeConfig c = S3VolumeConfig.parse(params("Bucket", "b", "Endpoint", "s3.example.com:8443"));
        assertEquals("https://s3.example.com:8443", c.endpointUri().toString());
        assertEquals("s3://s3.example.com:8443/b", c.deviceId());
    }

    @Test
    void neverShowsTheSecret() throws IOException {
        Map<String, Object> p = params("Bucket", "b", "Endpoint", "http://127.0.0.1:9", "AccessKeyID", "AKID",
                "SecretAccessKey", SECRET);
        assertFalse(S3VolumeConfig.parse(p).toString().contains(SECRET));
        try (Volume v = VolumeDriver.forName("S3").create(p, VolumeContext.defaults())) {
            assertFalse(v.toString().contains(SECRET));
            assertFalse(v.deviceId().contains(SECRET));
            assertFalse(v.status().toString().contains(SECRET));
        }
    }
}
