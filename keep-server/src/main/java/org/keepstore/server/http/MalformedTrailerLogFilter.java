package org.keepstore.server.http;

import java.util.concurrent.atomic.AtomicLong;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Keeps one client mistake from flooding the log. Undertow fails on a chunked request body whose
 * trailer has a line without a header name, and logs an ERROR with a stack trace of 40 lines for
 * every such request (UT005090), although the request is only malformed; a client could send
 * thousands a second. Those events are dropped here and counted instead: the first one gives a
 * WARN line without a stack trace, and later ones another (with the count since) at most once a
 * minute. Registered in logback.xml.
 */
public final class MalformedTrailerLogFilter extends TurboFilter {
    private static final long REPORT_INTERVAL_NANOS = 60_000_000_000L;
    private static final String TRAILER_PARSER = "io.undertow.conduits.ChunkReader$TrailerParser";

    private final AtomicLong suppressed = new AtomicLong();
    private final AtomicLong lastReport = new AtomicLong(System.nanoTime() - REPORT_INTERVAL_NANOS);

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (t == null || !logger.getName().startsWith("io.undertow") || !isMalformedTrailer(t)) {
            return FilterReply.NEUTRAL;
        }
        long count = suppressed.incrementAndGet();
        long now = System.nanoTime();
        long last = lastReport.get();
        if (now - last >= REPORT_INTERVAL_NANOS && lastReport.compareAndSet(last, now)) {
            suppressed.addAndGet(-count);
            logger.getLoggerContext().getLogger(MalformedTrailerLogFilter.class).warn(
                    "{} request(s) with a malformed chunked-body trailer (a trailer line without a header name)"
                            + " since the last such report; Undertow's stack traces for them are not logged", count);
        }
        return FilterReply.DENY;
    }

    /** Undertow's failure on a nameless trailer line: a null header name passed on from the trailer parser. */
    static boolean isMalformedTrailer(Throwable t) {
        if (!(t instanceof IllegalArgumentException)) {
            return false;
        }
        for (StackTraceElement frame : t.getStackTrace()) {
            if (frame.getClassName().equals(TRAILER_PARSER)) {
                return true;
            }
        }
        return false;
    }
}
