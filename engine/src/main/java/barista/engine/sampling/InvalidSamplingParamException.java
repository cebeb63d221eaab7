package barista.engine.sampling;

/** A sampling field out of range; {@link #field} is the API name the client sent (for OpenAI's error "param"). */
public final class InvalidSamplingParamException extends IllegalArgumentException {
  private final String field;

  public InvalidSamplingParamException(String field, String message) {
    super(message);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
