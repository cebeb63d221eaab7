package barista.server.http;

/** Told the status of every API response as it is sent (for the http_requests_total metric). */
@FunctionalInterface
public interface ResponseObserver {

  /**
   * Label values come from fixed sets, so no client can grow the number of series.
   *
   * @param method an HTTP method of RFC 9110 or PATCH, else "other"
   * @param handler the route's path, or "unmatched" for paths that are not routes
   */
  void responded(String method, String handler, int status);
}
