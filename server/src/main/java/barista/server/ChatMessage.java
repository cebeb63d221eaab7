package barista.server;

/** One message of a chat request after its content parts were joined into text. */
public record ChatMessage(String role, String content) {}
