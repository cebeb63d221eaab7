package barista.server.http;

import io.netty.handler.codec.http.HttpMethod;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** Exact-path routes: an unknown path is 404, a known path with another method is 405 with an Allow header. */
public final class Router {

  /** @param open served without the API key (health, metrics, ...) */
  public record Route(Endpoint endpoint, boolean open) {}

  private final Map<String, Map<HttpMethod, Route>> routes = new LinkedHashMap<>();

  public Router add(HttpMethod method, String path, Endpoint endpoint, boolean open) {
    routes.computeIfAbsent(path, p -> new LinkedHashMap<>()).put(method, new Route(endpoint, open));
    return this;
  }

  /** The route, or ApiException 404 / 405. */
  public Route find(HttpMethod method, String path) {
    Map<HttpMethod, Route> byMethod = routes.get(path);
    if (byMethod == null) throw ApiException.notFound("Not Found: " + path);
    Route route = byMethod.get(method);
    if (route == null) throw ApiException.methodNotAllowed(method.name(), path);
    return route;
  }

  /** Whether the path is a route (with any method). */
  public boolean knows(String path) {
    return routes.containsKey(path);
  }

  /** The value of the Allow header for a path. */
  public String allowedMethods(String path) {
    Map<HttpMethod, Route> byMethod = routes.getOrDefault(path, Map.of());
    return byMethod.keySet().stream().map(HttpMethod::name).collect(Collectors.joining(", "));
  }
}
