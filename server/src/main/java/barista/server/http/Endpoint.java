package barista.server.http;

/**
 * Serves one route. Runs on the event loop and must not block: it either answers at once through the exchange or
 * starts work that answers later. Throwing ApiException answers with that error.
 */
@FunctionalInterface
public interface Endpoint {
  void handle(Exchange exchange);
}
