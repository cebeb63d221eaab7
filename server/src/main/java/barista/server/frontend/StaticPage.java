package barista.server.frontend;

import barista.server.http.Endpoint;
import barista.server.http.Exchange;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * One file of the browser front end, read from the jar once at startup, so serving it never blocks the event loop.
 * The Content-Security-Policy lets a page load only this server's own scripts and styles and talk only to this
 * server: no third-party requests, and no inline script, so text that slipped into the page as HTML still could
 * not run.
 */
public final class StaticPage implements Endpoint {
  static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
      + "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final byte[] body;
  private final String contentType;

  private StaticPage(byte[] body, String contentType) {
    this.body = body;
    this.contentType = contentType;
  }

  /** The resource {@code name} of barista/frontend/ in the jar; its type from its extension. */
  public static StaticPage of(String name) {
    try (InputStream in = StaticPage.class.getResourceAsStream("/barista/frontend/" + name)) {
      if (in == null) throw new IllegalStateException("front-end file missing from the jar: " + name);
      return new StaticPage(in.readAllBytes(), contentType(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String contentType(String name) {
    if (name.endsWith(".html")) return "text/html; charset=utf-8";
    if (name.endsWith(".js")) return "text/javascript; charset=utf-8";
    if (name.endsWith(".css")) return "text/css; charset=utf-8";
    if (name.endsWith(".svg")) return "image/svg+xml";
    throw new IllegalArgumentException("no content type for " + name);
  }

  @Override
  public void handle(Exchange exchange) {
    FullHttpResponse response = new DefaultFullHttpResponse(exchange.request().protocolVersion(), HttpResponseStatus.OK,
        Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
        .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .set("X-Content-Type-Options", "nosniff")
        .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
        .set("Referrer-Policy", "no-referrer");
    HttpUtil.setContentLength(response, body.length);
    exchange.send(response);
  }
}
