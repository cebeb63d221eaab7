package barista.engine.checkpoint;

/** A model folder or weight file that cannot be used as given; the message is one line naming the file or tensor. */
public class CheckpointException extends IllegalArgumentException {

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
