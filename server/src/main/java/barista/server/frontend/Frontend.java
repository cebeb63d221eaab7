package barista.server.frontend;

import barista.server.http.Router;
import io.netty.handler.codec.http.HttpMethod;

/**
 * The browser front end: the chat playground at /, the live status page at /status, their scripts and style, and
 * the status page's data. The pages are static and open (a browser cannot send a Bearer key when it navigates);
 * the API calls they make carry the key the user types, and /status/data is guarded like /metrics.
 */
public final class Frontend {
  private Frontend() {}

  public static void addRoutes(Router router, StatusData statusData, boolean statusOpen) {
    router.add(HttpMethod.GET, "/", StaticPage.of("index.html"), true)
        .add(HttpMethod.GET, "/status", StaticPage.of("status.html"), true)
        .add(HttpMethod.GET, "/ui/playground.js", StaticPage.of("playground.js"), true)
        .add(HttpMethod.GET, "/ui/status.js", StaticPage.of("status.js"), true)
        .add(HttpMethod.GET, "/ui/common.js", StaticPage.of("common.js"), true)
        .add(HttpMethod.GET, "/ui/barista.css", StaticPage.of("barista.css"), true)
        .add(HttpMethod.GET, "/ui/favicon.svg", StaticPage.of("favicon.svg"), true)
        .add(HttpMethod.GET, "/status/data", statusData, statusOpen);
  }
}
