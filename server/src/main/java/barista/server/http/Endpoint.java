package barista.server.http;

/**
 * Serves one route: it either answers at once through the exchange or starts work that answers later. Throwing
 * ApiException answers with that error. A light endpoint runs on the event loop and must not block; a
 * {@link #heavy()} one (parsing a body, templating, tokenizing, rendering a large text) runs on the bounded request
 * worker pool, and whatever must run on the event loop (a generation session) it hands there with
 * {@link Exchange#onEventLoop}; the exchange's send methods may be called from either.
 */
@FunctionalInterface
public interface Endpoint {
  void handle(Exchange exchange);

  /** Whether {@link #handle} runs on the request worker pool rather than the event loop. */
  default boolean heavy() {
    return false;
  }
}
