package barista.engine.constraint;

/** A schema or regular expression this server cannot constrain to; {@link #what} names the keyword or construct. */
public final class UnsupportedConstraintException extends IllegalArgumentException {
  private final String what;

  public UnsupportedConstraintException(String what, String message) {
    super(message);
    this.what = what;
  }

  public String what() {
    return what;
  }
}
