package barista.server.generation;

/** Where a chat response's tool calls come from. */
public record ToolOutput(Kind kind, String function) {
  /** How the content is read: calls to one named function, to any function, or DeepSeek-V3's call markup. */
  enum Kind { NAMED, REQUIRED, DEEPSEEK_V3 }

  public static final ToolOutput REQUIRED = new ToolOutput(Kind.REQUIRED, null);
  public static final ToolOutput DEEPSEEK_V3 = new ToolOutput(Kind.DEEPSEEK_V3, null);

  public static ToolOutput named(String function) {
    return new ToolOutput(Kind.NAMED, function);
  }

  ToolCallParser parser() {
    return switch (kind) {
      case NAMED -> new ToolCallParser.Named(function);
      case REQUIRED -> new ToolCallParser.Required();
      case DEEPSEEK_V3 -> new ToolCallParser.DeepSeekV3();
    };
  }
}
