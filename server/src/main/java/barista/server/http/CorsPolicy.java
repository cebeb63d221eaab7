package barista.server.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;

/**
 * CORS for --allowed-origins: off unless origins are given; "*" allows any. Preflights allow the headers the
 * browser asks for, since OpenAI SDKs send their own (x-stainless-*) next to Authorization.
 */
public final class CorsPolicy {
  public static final CorsPolicy OFF = new CorsPolicy(List.of());

  private final List<String> origins;

  public CorsPolicy(List<String> origins) {
    this.origins = List.copyOf(origins);
  }

  public boolean isPreflight(HttpRequest request) {
    return !origins.isEmpty() && request.method().equals(HttpMethod.OPTIONS)
        && request.headers().contains(HttpHeaderNames.ORIGIN)
        && request.headers().contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
  }

  /** Adds the preflight answer headers (when the origin is allowed) to an empty 204. */
  public void addPreflightHeaders(HttpRequest request, HttpHeaders response) {
    if (!addHeaders(request, response)) return;
    response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
    String asked = request.headers().get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS);
    if (asked != null) response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, asked);
    response.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, 600);
  }

  /** Adds Access-Control-Allow-Origin when the request's origin is allowed; returns whether it was. */
  public boolean addHeaders(HttpRequest request, HttpHeaders response) {
    String origin = request.headers().get(HttpHeaderNames.ORIGIN);
    if (origin == null || origins.isEmpty()) return false;
    if (origins.contains("*")) {
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    } else if (origins.contains(origin)) {
      response.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      response.add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
    } else {
      return false;
    }
    return true;
  }
}
