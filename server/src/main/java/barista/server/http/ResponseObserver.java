package barista.server.http;

/** Told the status of every API response as it is sent (for the http_requests_total metric). */
@FunctionalInterface
public interface ResponseObserver {

  /** @param handler the route's path, or "other" for paths that are not routes (bounded label values) */
  void responded(String method, String handler, int status);
}
