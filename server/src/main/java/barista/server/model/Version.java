package barista.server.model;

/** The server's version, reported by GET /version and in system_fingerprint. */
public final class Version {
  public static final String VERSION = "0.1.0";
  public static final String FINGERPRINT = "barista-" + VERSION;

  private Version() {}
}
