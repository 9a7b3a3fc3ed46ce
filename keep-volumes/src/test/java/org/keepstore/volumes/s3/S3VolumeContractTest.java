package org.keepstore.volumes.s3;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeContext;
import org.keepstore.core.VolumeContract;
import org.keepstore.core.VolumeDriver;

/**
 * The shared volume contract against a real S3-compatible server, one fresh bucket per volume.
 *
 * <p>Two adjustments, both about time. The S3 layout judges races by how long before its trash
 * a block was written or touched, measured in the server's LastModified stamps, against the
 * signature TTL: with the contract's two-week TTL every block it trashes (all written seconds
 * earlier) would count as "written during the trash" and be rescued, which is the point of the
 * design but not what these generic tests check. So the volumes here get a zero TTL and a
 * one-second race window; {@link S3VolumeTest} covers the TTL and race behaviour with real
 * server timestamps. And since the server stamps mtimes with its own clock (one-second
 * granularity), advancing the contract's clock also lets a little more than a second pass.
 */
class S3VolumeContractTest extends VolumeContract {
    private S3TestServer server;
    private final List<String> buckets = new ArrayList<>();

    @Override
    protected Volume newVolume(VolumeContext context) throws Exception {
        if (server == null) {
            server = S3TestServer.fromEnvironment();
        }
        String bucket = server.newBucket();
        buckets.add(bucket);
        Map<String, Object> parameters = server.parameters(bucket);
        parameters.put("RaceWindow", "1s");
        VolumeContext withoutTtl = new VolumeContext(context.clock(), context.trashLifetime(), Duration.ZERO,
                context.metrics());
        return VolumeDriver.forName("S3").create(parameters, withoutTtl);
    }

    @Override
    protected boolean deletesWhenTrashLifetimeIsZero() {
        return false; // refused unless UnsafeDelete
    }

    @Override
    protected boolean mtimeIsTheContextClock() {
        return false; // LastModified of recent/KEY, stamped by the server
    }

    @Override
    protected void advanceTime(Duration amount) throws Exception {
        super.advanceTime(amount);
        Thread.sleep(1100); // the server's next whole second
    }

    @AfterEach
    void deleteBuckets() {
        if (server != null) {
            buckets.forEach(server::deleteBucket);
            server.close();
        }
    }
}
