package org.keepstore.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;

class MalformedTrailerLogFilterTest {

    /** An exception as Undertow's trailer parser throws it for a trailer line without a name. */
    private static IllegalArgumentException trailerFailure() {
        IllegalArgumentException e = new IllegalArgumentException("Parameter 'headerName' may not be null");
        e.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("io.undertow.util.HeaderMap", "put", "HeaderMap.java", 732),
            new StackTraceElement("io.undertow.conduits.ChunkReader$TrailerParser", "handle", "ChunkReader.java", 240),
        });
        return e;
    }

    @Test
    void undertowsTrailerStackTracesAreCountedNotLogged() {
        LoggerContext context = new LoggerContext();
        MalformedTrailerLogFilter filter = new MalformedTrailerLogFilter();
        filter.setContext(context);
        filter.start();
        context.addTurboFilter(filter);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.setContext(context);
        events.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(events);
        root.setLevel(Level.INFO);

        Logger undertow = context.getLogger("io.undertow.request.io");
        for (int i = 0; i < 100; i++) {
            undertow.error("UT005090: Unexpected failure", trailerFailure());
        }
        undertow.error("UT005090: Unexpected failure", new IllegalStateException("something else"));
        context.getLogger("org.keepstore.server.access").info("GET /x 200");

        List<ILoggingEvent> logged = events.list;
        assertEquals(3, logged.size(), logged.toString());
        assertEquals(Level.WARN, logged.get(0).getLevel());
        assertTrue(logged.get(0).getFormattedMessage().startsWith("1 request(s) with a malformed chunked-body trailer"),
                logged.get(0).getFormattedMessage());
        assertEquals("UT005090: Unexpected failure", logged.get(1).getMessage(), "other failures are still logged");
        assertEquals("GET /x 200", logged.get(2).getMessage());
    }

    @Test
    void onlyTheTrailerParsersFailureIsRecognized() {
        assertTrue(MalformedTrailerLogFilter.isMalformedTrailer(trailerFailure()));
        assertFalse(MalformedTrailerLogFilter.isMalformedTrailer(new IllegalArgumentException("elsewhere")));
        IllegalStateException other = new IllegalStateException();
        other.setStackTrace(trailerFailure().getStackTrace());
        assertFalse(MalformedTrailerLogFilter.isMalformedTrailer(other));
    }
}
