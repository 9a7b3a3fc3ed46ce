package org.keepstore.volumes.azure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.keepstore.core.Locator;
import org.keepstore.core.VolumeDriver;

class AzureVolumeSettingsTest {
    private static final String KEY = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=";

    private static Map<String, Object> minimal() {
        Map<String, Object> p = new HashMap<>();
        p.put("StorageAccountName", "acct");
        p.put("StorageAccountKey", KEY);
        p.put("ContainerName", "blocks");
        return p;
    }

    @Test
    void driverIsFoundByItsConfigName() {
        assertInstanceOf(AzureVolumeDriver.class, VolumeDriver.forName("Azure"));
    }

    @Test
    void defaultsFollowTheReference() {
        AzureVolumeSettings s = AzureVolumeSettings.parse(minimal());
        assertEquals("https://acct.blob.core.windows.net", s.serviceUrl);
        assertEquals("azure://core.windows.net/acct/blocks", s.deviceId());
        assertEquals(Duration.ofMinutes(10), s.requestTimeout);
        assertEquals(Duration.ofSeconds(10), s.listBlobsRetryDelay);
        assertEquals(12, s.listBlobsMaxAttempts);
        assertEquals(Duration.ofSeconds(15), s.writeRaceInterval);
        assertEquals(Duration.ofSeconds(1), s.writeRacePollTime);
        assertEquals(Locator.MAX_BLOCK_SIZE, s.maxGetBytes);
        assertFalse(s.splitsReadOf(Locator.MAX_BLOCK_SIZE));
    }

    @Test
    void parametersOverrideDefaults() {
        Map<String, Object> p = minimal();
        p.put("StorageBaseURL", "core.chinacloudapi.cn");
        p.put("RequestTimeout", "90s");
        p.put("ListBlobsRetryDelay", "250ms");
        p.put("ListBlobsMaxAttempts", 3);
        p.put("WriteRaceInterval", "1m");
        p.put("WriteRacePollTime", "100ms");
        p.put("MaxGetBytes", "1048576");
        AzureVolumeSettings s = AzureVolumeSettings.parse(p);
        assertEquals("https://acct.blob.core.chinacloudapi.cn", s.serviceUrl);
        assertEquals("azure://core.chinacloudapi.cn/acct/blocks", s.deviceId());
        assertEquals(Duration.ofSeconds(90), s.requestTimeout);
        assertEquals(Duration.ofMillis(250), s.listBlobsRetryDelay);
        assertEquals(3, s.listBlobsMaxAttempts);
        assertEquals(Duration.ofMinutes(1), s.writeRaceInterval);
        assertEquals(Duration.ofMillis(100), s.writeRacePollTime);
        assertEquals(1 << 20, s.maxGetBytes);
        assertTrue(s.splitsReadOf((1 << 20) + 1));
        assertFalse(s.splitsReadOf(1 << 20));
    }

    @Test
    void baseUrlWrittenAsAUrlIsAccepted() {
        Map<String, Object> p = minimal();
        p.put("StorageBaseURL", "https://core.usgovcloudapi.net/");
        AzureVolumeSettings s = AzureVolumeSettings.parse(p);
        assertEquals("https://acct.blob.core.usgovcloudapi.net", s.serviceUrl);
        assertEquals("azure://core.usgovcloudapi.net/acct/blocks", s.deviceId());
    }

    @Test
    void endpointOverridesAccountAndBaseUrlAndNamesTheAccount() {
        Map<String, Object> p = minimal();
        p.remove("StorageAccountName");
        p.put("Endpoint", "http://127.0.0.1:10000/devstoreaccount1/");
        AzureVolumeSettings s = AzureVolumeSettings.parse(p);
        assertEquals("http://127.0.0.1:10000/devstoreaccount1", s.serviceUrl);
        assertEquals("devstoreaccount1", s.accountName);
        assertEquals("azure://127.0.0.1:10000/devstoreaccount1/blocks", s.deviceId());
    }

    @Test
    void anEndpointInAzuresOwnFormGivesTheReferenceDeviceId() {
        Map<String, Object> p = minimal();
        p.put("Endpoint", "https://acct.blob.core.chinacloudapi.cn");
        AzureVolumeSettings s = AzureVolumeSettings.parse(p);
        assertEquals("https://acct.blob.core.chinacloudapi.cn", s.serviceUrl);
        assertEquals("azure://core.chinacloudapi.cn/acct/blocks", s.deviceId());
    }

    @Test
    void missingRequiredParametersAreNamed() {
        for (String name : new String[] {"ContainerName", "StorageAccountKey", "StorageAccountName"}) {
            Map<String, Object> p = minimal();
            p.remove(name);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AzureVolumeSettings.parse(p));
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
    }

    @Test
    void badValuesAreRejectedWithoutEchoingTheKey() {
        Map<String, Object> p = minimal();
        p.put("RequestTimeout", "ten seconds");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AzureVolumeSettings.parse(p));
        assertTrue(e.getMessage().contains("RequestTimeout"), e.getMessage());
        assertFalse(e.getMessage().contains(KEY));

        Map<String, Object> q = minimal();
        q.put("Endpoint", "ftp://example");
        e = assertThrows(IllegalArgumentException.class, () -> AzureVolumeSettings.parse(q));
        assertTrue(e.getMessage().contains("Endpoint"), e.getMessage());
    }

    @Test
    void theKeyNeverAppearsInDescriptions() {
        AzureVolumeSettings s = AzureVolumeSettings.parse(minimal());
        assertFalse(s.toString().contains(KEY), s.toString());
        assertFalse(s.deviceId().contains(KEY));
    }
}
