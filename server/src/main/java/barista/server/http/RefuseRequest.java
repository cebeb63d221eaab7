package barista.server.http;

/**
 * A user event, passed down the pipeline, that answers a request which has not fully arrived with {@code error} and
 * closes the connection ({@link ConnectionTimeouts} writes it, after any responses still owed).
 */
record RefuseRequest(ApiException error) {}
