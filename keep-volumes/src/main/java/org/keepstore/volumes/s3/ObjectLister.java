package org.keepstore.volumes.s3;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Walks the keys under one prefix in key order, one ListObjectsV2 page at a time. While the
 * caller consumes a page, the next one is already being fetched on {@code executor}, so two
 * listers merged side by side (data keys and {@code recent/} markers) fetch in parallel and the
 * caller rarely waits. At most two pages are held in memory.
 */
final class ObjectLister {

    /** Fetches one page: the continuation token of the previous page, or null for the first. */
    @FunctionalInterface
    interface PageFetcher {
        ListObjectsV2Response fetch(String prefix, String continuationToken) throws IOException;
    }

    private final PageFetcher fetcher;
    private final String prefix;
    private final Executor executor;
    private final Deque<S3Object> current = new ArrayDeque<>();
    private CompletableFuture<ListObjectsV2Response> nextPage;

    ObjectLister(PageFetcher fetcher, String prefix, Executor executor) {
        this.fetcher = fetcher;
        this.prefix = prefix;
        this.executor = executor;
        this.nextPage = fetchAsync(null);
    }

    /** The next object, or null once the listing is complete. */
    S3Object next() throws IOException {
        while (current.isEmpty()) {
            if (nextPage == null) {
                return null;
            }
            ListObjectsV2Response page = await(nextPage);
            nextPage = Boolean.TRUE.equals(page.isTruncated()) && page.nextContinuationToken() != null
                    ? fetchAsync(page.nextContinuationToken())
                    : null;
            for (S3Object o : page.contents()) {
                // A server that ignores the prefix would otherwise make us misreport keys.
                if (o.key().startsWith(prefix)) {
                    current.add(o);
                }
            }
        }
        return current.poll();
    }

    private CompletableFuture<ListObjectsV2Response> fetchAsync(String token) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return fetcher.fetch(prefix, token);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    private static ListObjectsV2Response await(CompletableFuture<ListObjectsV2Response> page) throws IOException {
        try {
            return page.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while listing", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(cause);
        }
    }
}
