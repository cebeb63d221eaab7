package barista.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * One request and its response, confined to the connection's event loop. A response is either one full message
 * or a server-sent event stream; stream events wait in a queue while the channel is not writable (a slow reader),
 * and the queue is bounded by what one request can generate.
 */
public final class Exchange {
  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EVENT_END = "\n\n".getBytes(StandardCharsets.US_ASCII);

  private final ChannelHandlerContext ctx;
  private final FullHttpRequest request;
  private final String path;
  private final long arrivalNanos = System.nanoTime();
  private final Runnable onDone;
  private final CorsPolicy cors;
  private final ResponseObserver observer;
  private final String handler;
  private final ArrayDeque<Object> pending = new ArrayDeque<>();
  private Runnable cancelHook;
  private boolean streaming;
  private boolean done; // the response is complete (or the client is gone): nothing more is accepted
  private boolean released; // the connection may go on to the next request

  Exchange(ChannelHandlerContext ctx, FullHttpRequest request, CorsPolicy cors, Router router,
      ResponseObserver observer, Runnable onDone) {
    this.ctx = ctx;
    this.cors = cors;
    this.request = request;
    this.path = new QueryStringDecoder(request.uri()).path();
    this.observer = observer;
    this.handler = router.knows(path) ? path : "other";
    this.onDone = onDone;
  }

  /** The request; its body is only valid until the endpoint's handle() returns. */
  public FullHttpRequest request() {
    return request;
  }

  public String path() {
    return path;
  }

  public long arrivalNanos() {
    return arrivalNanos;
  }

  public ChannelHandlerContext context() {
    return ctx;
  }

  /** The body as a JSON object: 415 unless Content-Type is application/json, 400 for invalid JSON or UTF-8. */
  public ObjectNode jsonBody() {
    String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    String mediaType = contentType.split(";", 2)[0].strip();
    if (!mediaType.equalsIgnoreCase("application/json")) throw ApiException.unsupportedMediaType(contentType);
    ByteBuf content = request.content();
    if (!content.isReadable()) throw ApiException.badRequest("The request body is empty; expected a JSON object", null);
    JsonNode node;
    try {
      node = Json.MAPPER.readTree((InputStream) new ByteBufInputStream(content.duplicate()));
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest(JsonSyntaxError.describe(e), null);
    } catch (IOException e) {
      throw ApiException.badRequest("Cannot read the request body: " + e.getMessage(), null);
    }
    if (node == null || !node.isObject()) {
      throw ApiException.badRequest("The request body must be a JSON object, got "
          + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase()), null);
    }
    return (ObjectNode) node;
  }

  public void sendJson(HttpResponseStatus status, Object body) {
    send(status, "application/json", Json.bytes(body));
  }

  public void sendError(ApiException e) {
    send(errorResponse(e));
  }

  /** The error as a response, for callers that add headers (Allow, Connection) before sending it. */
  public FullHttpResponse errorResponse(ApiException e) {
    FullHttpResponse response = response(e.status(), "application/json", Json.bytes(Json.errorBody(e)));
    if (e.status() == HttpResponseStatus.SERVICE_UNAVAILABLE) response.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
    return response;
  }

  public void send(HttpResponseStatus status, String contentType, byte[] body) {
    send(response(status, contentType, body));
  }

  public void send(FullHttpResponse response) {
    if (done) {
      response.release();
      return;
    }
    if (streaming) throw new IllegalStateException("a full response after the event stream started");
    done = true;
    observer.responded(request.method().name(), handler, response.status().code());
    ctx.writeAndFlush(response);
    release();
  }

  /** Sends the 200 head of a text/event-stream response; the body follows with {@link #sendEvent}. */
  public void startEventStream() {
    HttpResponse head = new DefaultHttpResponse(request.protocolVersion(), HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
    head.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
    // HTTP/1.0 has no chunked encoding: the stream then ends by closing the connection.
    if (request.protocolVersion().equals(HttpVersion.HTTP_1_1)) HttpUtil.setTransferEncodingChunked(head, true);
    cors.addHeaders(request, head.headers());
    streaming = true;
    observer.responded(request.method().name(), handler, HttpResponseStatus.OK.code());
    ctx.writeAndFlush(head);
  }

  /** Queues {@code data: <json>\n\n}; written at once unless the client reads slower than we generate. */
  public void sendEvent(byte[] data) {
    if (done) return;
    ByteBuf buf = Unpooled.wrappedBuffer(DATA, data, EVENT_END);
    enqueue(new DefaultHttpContent(buf));
  }

  public void endEventStream() {
    if (done) return;
    pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
    done = true;
    drain();
  }

  public boolean isStreaming() {
    return streaming;
  }

  public boolean isDone() {
    return done;
  }

  /** Runs once if the client goes away before the response is complete. */
  public void onCancel(Runnable hook) {
    this.cancelHook = hook;
  }

  void cancel() {
    if (released) return;
    released = true;
    done = true;
    for (Object frame : pending) io.netty.util.ReferenceCountUtil.release(frame);
    pending.clear();
    if (cancelHook != null) cancelHook.run();
  }

  /** Ends the exchange without a response (the client is gone before its request was complete). */
  void abandon() {
    done = true;
    release();
  }

  void writabilityChanged() {
    drain();
  }

  private void enqueue(Object frame) {
    pending.add(frame);
    drain();
  }

  private void drain() {
    if (released) return;
    boolean wrote = false;
    while (!pending.isEmpty() && ctx.channel().isWritable()) {
      ctx.write(pending.poll());
      wrote = true;
    }
    if (wrote) ctx.flush();
    if (done && pending.isEmpty()) release();
  }

  /** Lets a pipelined next request start once every byte of this response is handed to the channel. */
  private void release() {
    if (released) return;
    released = true;
    onDone.run();
  }

  private FullHttpResponse response(HttpResponseStatus status, String contentType, byte[] body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(request.protocolVersion(), status, Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    HttpUtil.setContentLength(response, body.length);
    cors.addHeaders(request, response.headers());
    return response;
  }
}
