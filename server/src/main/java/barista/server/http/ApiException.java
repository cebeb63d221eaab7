package barista.server.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request the server answers with an error: OpenAI's body {"error":{"message","type","param","code"}} with the
 * type names vLLM (>= 0.10.1) uses, so OpenAI SDKs raise their typed errors.
 */
public final class ApiException extends RuntimeException {
  private final HttpResponseStatus status;
  private final String type;
  private final String param;

  public ApiException(HttpResponseStatus status, String type, String message, String param) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
  }

  public static ApiException badRequest(String message, String param) {
    return new ApiException(HttpResponseStatus.BAD_REQUEST, "BadRequestError", message, param);
  }

  public static ApiException notFound(String message) {
    return new ApiException(HttpResponseStatus.NOT_FOUND, "NotFoundError", message, null);
  }

  public static ApiException unauthorized() {
    return new ApiException(HttpResponseStatus.UNAUTHORIZED, "AuthenticationError",
        "Invalid or missing API key (send \"Authorization: Bearer <key>\")", null);
  }

  public static ApiException methodNotAllowed(String method, String path) {
    return new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED, "MethodNotAllowedError",
        "Method " + method + " is not allowed on " + path, null);
  }

  public static ApiException unsupportedMediaType(String contentType) {
    return new ApiException(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaTypeError",
        "Unsupported Media Type: Only 'application/json' is allowed, got '" + contentType + "'", null);
  }

  public static ApiException overloaded(String message) {
    return new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, "ServiceUnavailableError", message, null);
  }

  public static ApiException internal(String message) {
    return new ApiException(HttpResponseStatus.INTERNAL_SERVER_ERROR, "InternalServerError", message, null);
  }

  public HttpResponseStatus status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String param() {
    return param;
  }
}
