package barista.engine.linear;

/** A linear layer's weight (and bias) as laid out on the device after loading, in one format. */
public interface LinearWeight extends AutoCloseable {

  /** Bytes on the device, bias included. */
  long deviceBytes();

  @Override
  void close();
}
