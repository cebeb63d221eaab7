package barista.server.endpoints;

import barista.server.http.Endpoint;

/** An endpoint that reads a body and works with the served model: it runs on the request worker pool. */
abstract class ModelEndpoint implements Endpoint {
  final ServerContext server;

  ModelEndpoint(ServerContext server) {
    this.server = server;
  }

  @Override
  public final boolean heavy() {
    return true;
  }
}
