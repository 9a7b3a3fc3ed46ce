package org.keepstore.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.keepstore.core.KeepException;
import org.keepstore.core.Locator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Parsing the locator of every request: plain, sized, and signed as clients send them. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LocatorBenchmark {

    @Param({
        "acbd18db4cc2f85cedef654fccc4a4d8",
        "acbd18db4cc2f85cedef654fccc4a4d8+67108864",
        "acbd18db4cc2f85cedef654fccc4a4d8+67108864+A3cf3d4f0b2b5d9a1b7c2e3f4a5b6c7d8e9f0a1b2@65a1b2c3"
    })
    public String text;

    @Benchmark
    public Locator parse() throws KeepException {
        return Locator.parse(text);
    }
}
