package barista.engine.sampling;

/**
 * A request asks for something this engine refuses: a sampling field out of range, or a constraint (schema keyword,
 * regular-expression construct) it cannot follow. {@link #what} names it: the field as the client sent it (OpenAI's
 * error "param"), or the keyword or construct inside a constraint.
 */
public final class RefusedRequestException extends IllegalArgumentException {
  private final String what;

  public RefusedRequestException(String what, String message) {
    super(message);
    this.what = what;
  }

  public String what() {
    return what;
  }
}
