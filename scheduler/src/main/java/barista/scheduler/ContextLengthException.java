package barista.scheduler;

/** Prompt plus requested completion do not fit the context; the message is vLLM's, the numbers for the client. */
public final class ContextLengthException extends IllegalArgumentException {
  public ContextLengthException(int maxModelLen, int promptTokens, int completionTokens) {
    super("This model's maximum context length is " + maxModelLen + " tokens. However, you requested "
        + (promptTokens + completionTokens) + " tokens (" + promptTokens + " in the messages, " + completionTokens
        + " in the completion). Please reduce the length of the messages or completion.");
  }
}
