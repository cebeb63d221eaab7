package barista.engine.checkpoint;

/** Element types of safetensors tensors, named as in the file header. */
public enum DType {
  BF16(2), F16(2), F32(4), I32(4), I64(8), I8(1), U8(1);

  private final int size;

  DType(int size) {
    this.size = size;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  public boolean isFloat() {
    return this == BF16 || this == F16 || this == F32;
  }

  /** The dtype named in a safetensors header, or null when unknown. */
  static DType fromHeader(String name) {
    for (DType d : values()) {
      if (d.name().equals(name)) return d;
    }
    return null;
  }

  /** The name transformers writes as torch_dtype in config.json. */
  public String torchName() {
    return switch (this) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      case F32 -> "float32";
      case I32 -> "int32";
      case I64 -> "int64";
      case I8 -> "int8";
      case U8 -> "uint8";
    };
  }
}
