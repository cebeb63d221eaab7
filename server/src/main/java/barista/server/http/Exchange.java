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
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * One request and its response, confined to the connection's event loop: the send methods called from another
 * thread (a heavy endpoint on the request worker pool) hand themselves to the loop. A response is either one full
 * message or a server-sent event stream; stream events wait in a queue while the channel is not writable (a slow
 * reader), and the queue is bounded by what one request can generate.
 */
public final class Exchange {
  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final java.util.Set<String> STANDARD_METHODS =
      java.util.Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");
  private static final byte[] EVENT_END = "\n\n".getBytes(StandardCharsets.US_ASCII);

  private final ChannelHandlerContext ctx;
  private final FullHttpRequest request;
  private final String path;
  private final long arrivalNanos = System.nanoTime();
  private final Runnable onDone;
  private final CorsPolicy cors;
  private final ResponseObserver observer;
  private final String handler;
  private final java.util.concurrent.Executor workers;
  private final ArrayDeque<Object> pending = new ArrayDeque<>();
  private Runnable cancelHook;
  private boolean streaming;
  private boolean done; // the response is complete (or the client is gone): nothing more is accepted
  private boolean released; // the connection may go on to the next request
  private boolean cancelled; // the connection closed

  Exchange(ChannelHandlerContext ctx, FullHttpRequest request, CorsPolicy cors, Router router,
      ResponseObserver observer, java.util.concurrent.Executor workers, Runnable onDone) {
    this.ctx = ctx;
    this.workers = workers;
    this.cors = cors;
    this.request = request;
    this.path = decodedPath(request.uri());
    this.observer = observer;
    this.handler = path != null && router.knows(path) ? path : "unmatched";
    this.onDone = onDone;
  }

  /** The request's method as a metric label: one of HTTP's own, else "other", so clients cannot add series. */
  private String methodLabel() {
    String method = request.method().name();
    return STANDARD_METHODS.contains(method) ? method : "other";
  }

  /** The URI's path, percent-decoded; null when the URI is malformed (a bad percent escape, invalid UTF-8). */
  static String decodedPath(String uri) {
    int end = uri.length();
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c == '?' || c == '#') {
        end = i;
        break;
      }
    }
    String raw = uri.substring(0, end);
    if (raw.indexOf('%') < 0) return raw;
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c != '%') {
        bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        continue;
      }
      int high = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
      int low = high < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
      if (low < 0) return null;
      bytes.write(high * 16 + low);
      i += 2;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }

  /** The request; its body is only valid until the endpoint's handle() returns. */
  public FullHttpRequest request() {
    return request;
  }

  /** The percent-decoded path, or null when the URI could not be decoded (the request is answered 400). */
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
    return jsonBody(Json.MAPPER.reader(), null);
  }

  /**
   * The body as a JSON object read by {@code reader}; a body over the reader's stream limits (a string too long to
   * be worth reading whole) is answered with {@code overLimits}, or as invalid JSON when that is null.
   */
  public ObjectNode jsonBody(com.fasterxml.jackson.databind.ObjectReader reader,
      java.util.function.Supplier<ApiException> overLimits) {
    String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    String mediaType = contentType.split(";", 2)[0].strip();
    if (!mediaType.equalsIgnoreCase("application/json")) throw ApiException.unsupportedMediaType(contentType);
    ByteBuf content = request.content();
    if (!content.isReadable()) throw ApiException.badRequest("The request body is empty; expected a JSON object", null);
    requireUtf8(content);
    JsonNode node;
    try {
      node = reader.readTree((InputStream) new ByteBufInputStream(content.duplicate()));
    } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
      if (overLimits != null) throw overLimits.get();
      throw ApiException.badRequest("Invalid JSON in the request body: " + e.getOriginalMessage(), null);
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

  /**
   * 400 unless the body is well-formed UTF-8: Jackson lets overlong forms ({@code C0 AF}) and encoded surrogates
   * (CESU-8's {@code ED A0 80}) through, which the JDK's decoder refuses, as RFC 3629 asks. The bytes pass through
   * a heap array: the decoder's loop over a direct buffer (large bodies are held off the heap) is a byte at a time.
   */
  private static void requireUtf8(ByteBuf content) {
    java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(Math.min(content.readableBytes(), 64 * 1024));
    bytes.flip();
    java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(8192);
    int next = content.readerIndex();
    int end = content.writerIndex();
    while (true) {
      bytes.compact(); // what an incomplete sequence left stays in front
      int n = Math.min(bytes.remaining(), end - next);
      content.getBytes(next, bytes.array(), bytes.arrayOffset() + bytes.position(), n);
      bytes.position(bytes.position() + n);
      next += n;
      bytes.flip();
      boolean last = next == end;
      java.nio.charset.CoderResult result;
      do {
        result = decoder.decode(bytes, chars, last);
        chars.clear();
        if (result.isError()) {
          throw ApiException.badRequest("The request body is not valid UTF-8 (invalid byte sequence at offset "
              + (next - content.readerIndex() - bytes.remaining()) + ")", null);
        }
      } while (result.isOverflow());
      if (last) return;
    }
  }

  public void sendJson(HttpResponseStatus status, Object body) {
    send(status, "application/json", Json.bytes(body));
  }

  /**
   * Sends a JSON body that may be large (a non-streamed completion of many tokens, with logprobs), serialized on
   * the request worker pool so the event loop only writes its bytes; serialized here when the pool is full. The
   * body must not change after this call.
   */
  public void sendJsonSerializedOffLoop(HttpResponseStatus status, JsonNode body) {
    try {
      workers.execute(() -> {
        byte[] bytes;
        try {
          bytes = Json.bytes(body);
        } catch (RuntimeException bug) {
          org.slf4j.LoggerFactory.getLogger(Exchange.class).error("Bug while serializing {}", path, bug);
          sendErrorUnlessStarted(ApiException.internal("Internal error: " + bug));
          return;
        }
        executeOnLoop(() -> send(status, "application/json", bytes));
      });
    } catch (java.util.concurrent.RejectedExecutionException full) {
      sendJson(status, body);
    }
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
    if (handedToLoop(() -> send(response))) return;
    if (done) {
      response.release();
      return;
    }
    if (streaming) throw new IllegalStateException("a full response after the event stream started");
    done = true;
    observer.responded(methodLabel(), handler, response.status().code());
    ctx.writeAndFlush(response);
    release();
  }

  /** Sends the 200 head of a text/event-stream response; the body follows with {@link #sendEvent}. */
  public void startEventStream() {
    if (handedToLoop(this::startEventStream)) return;
    HttpResponse head = new DefaultHttpResponse(request.protocolVersion(), HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
    head.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
    // HTTP/1.0 has no chunked encoding: the stream then ends by closing the connection.
    if (request.protocolVersion().equals(HttpVersion.HTTP_1_1)) HttpUtil.setTransferEncodingChunked(head, true);
    cors.addHeaders(request, head.headers());
    head.headers().set(X_REQUEST_ID, requestId());
    streaming = true;
    observer.responded(methodLabel(), handler, HttpResponseStatus.OK.code());
    ctx.writeAndFlush(head);
  }

  /** Queues {@code data: <json>\n\n}; written at once unless the client reads slower than we generate. */
  public void sendEvent(byte[] data) {
    if (handedToLoop(() -> sendEvent(data))) return;
    if (done) return;
    ByteBuf buf = Unpooled.wrappedBuffer(DATA, data, EVENT_END);
    enqueue(new DefaultHttpContent(buf));
  }

  public void endEventStream() {
    if (handedToLoop(this::endEventStream)) return;
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

  /**
   * Runs once if the client goes away before the response is complete; at once if it has already gone. A later
   * call replaces the hook. From any thread (set on the event loop, in call order).
   */
  public void onCancel(Runnable hook) {
    if (handedToLoop(() -> onCancel(hook))) return;
    this.cancelHook = hook;
    if (cancelled) hook.run();
  }

  /**
   * Runs {@code task} on the connection's event loop (later, also when called there), unless the client has gone by
   * then. Errors it throws are answered as the response.
   */
  public void onEventLoop(Runnable task) {
    executeOnLoop(() -> {
      if (cancelled || done) return;
      try {
        task.run();
      } catch (ApiException error) {
        sendErrorUnlessStarted(error);
      } catch (RuntimeException bug) {
        org.slf4j.LoggerFactory.getLogger(Exchange.class).error("Bug while serving {}", path, bug);
        sendErrorUnlessStarted(ApiException.internal("Internal error: " + bug));
      }
    });
  }

  /** Answers with the error unless a response is already complete or streaming (then the client keeps that). */
  public void sendErrorUnlessStarted(ApiException error) {
    if (handedToLoop(() -> sendErrorUnlessStarted(error))) return;
    if (!done && !streaming) sendError(error);
  }

  /** True, after handing {@code again} to the event loop, when called off it. */
  private boolean handedToLoop(Runnable again) {
    if (ctx.executor().inEventLoop()) return false;
    executeOnLoop(again);
    return true;
  }

  private void executeOnLoop(Runnable task) {
    try {
      ctx.executor().execute(task);
    } catch (java.util.concurrent.RejectedExecutionException shutDown) {
      // the server is closing: the connection is gone with its loop
    }
  }

  void cancel() {
    cancelled = true;
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
    response.headers().set(X_REQUEST_ID, requestId());
    return response;
  }

  private static final String X_REQUEST_ID = "X-Request-Id";
  private String requestId;

  /** The client's X-Request-Id when it sent a printable one, else a new one (as vLLM's request-id headers). */
  private String requestId() {
    if (requestId == null) {
      String given = request.headers().get(X_REQUEST_ID);
      requestId = given != null && given.matches("[\\x21-\\x7e]{1,128}") ? given
          : java.util.UUID.randomUUID().toString().replace("-", "");
    }
    return requestId;
  }
}
