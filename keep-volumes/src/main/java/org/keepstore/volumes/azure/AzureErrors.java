package org.keepstore.volumes.azure;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.TimeoutException;

import com.azure.core.exception.HttpResponseException;
import com.azure.storage.blob.models.BlobStorageException;

/**
 * Classifies failures of Azure requests, which reach us in many shapes: a
 * {@link BlobStorageException} with the service's status and error code, or an I/O or timeout
 * exception wrapped in one or more runtime exceptions by the SDK.
 */
final class AzureErrors {
    /** Statuses that mean "the service cannot answer now": the engine should try elsewhere. */
    private static final int[] UNAVAILABLE_STATUSES = {408, 429, 500, 502, 503, 504};

    private AzureErrors() {
    }

    /** The HTTP status the service answered with, or -1 if the request got no answer. */
    static int serviceStatus(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BlobStorageException b) {
                return b.getStatusCode();
            }
            if (c instanceof HttpResponseException h && h.getResponse() != null) {
                return h.getResponse().getStatusCode();
            }
        }
        return -1;
    }

    /** The service's error code (e.g. {@code ServerBusy}), or null. */
    static String serviceErrorCode(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BlobStorageException b && b.getErrorCode() != null) {
                return b.getErrorCode().toString();
            }
        }
        return null;
    }

    /** Whether a service status means the backend is busy, down or timing out. */
    static boolean isUnavailableStatus(int status) {
        for (int s : UNAVAILABLE_STATUSES) {
            if (s == status) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the failure means the service could not be reached or did not answer in time
     * (connection refused, reset, timeouts), or answered with a busy/unavailable status.
     */
    static boolean isUnavailable(Throwable t) {
        int status = serviceStatus(t);
        if (status >= 0) {
            return isUnavailableStatus(status);
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof HttpTimeoutException || c instanceof ConnectException
                    || c instanceof InterruptedIOException || c instanceof UncheckedIOException
                    || c instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    /** A short label for the errors metric, like the reference's "StatusCode (ErrorCode)". */
    static String errorType(Throwable t) {
        int status = serviceStatus(t);
        if (status >= 0) {
            String code = serviceErrorCode(t);
            return code == null ? Integer.toString(status) : status + " (" + code + ")";
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof HttpTimeoutException) {
                return "timeout";
            }
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName();
    }

    /** A one-line description without stack or request details (and never a credential). */
    static String describe(Throwable t) {
        int status = serviceStatus(t);
        if (status >= 0) {
            String code = serviceErrorCode(t);
            return "service answered " + status + (code == null ? "" : " " + code);
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
