package org.keepstore.bench.jmh;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.keepstore.core.BlobSigner;
import org.keepstore.core.Locator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Signing a PUT's locator and checking a GET's signature (HMAC-SHA1 per request). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BlobSignerBenchmark {
    private static final String TOKEN = "3kg6k6lzmp9kj5cpkcoxie963cmvjahbt2fod9zru30k1jqdmi";

    private BlobSigner signer;
    private Locator unsigned;
    private Locator signed;

    @Setup
    public void setUp() {
        signer = new BlobSigner("a-blob-signing-key-of-sensible-length-0123456789".getBytes(StandardCharsets.UTF_8),
                Duration.ofDays(14), Clock.systemUTC());
        unsigned = Locator.of("acbd18db4cc2f85cedef654fccc4a4d8", 67108864);
        signed = signer.sign(unsigned, TOKEN);
    }

    @Benchmark
    public Locator sign() {
        return signer.sign(unsigned, TOKEN);
    }

    @Benchmark
    public BlobSigner.Verdict check() {
        return signer.check(signed, TOKEN);
    }
}
