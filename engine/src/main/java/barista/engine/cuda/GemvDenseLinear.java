package barista.engine.cuda;

import static barista.engine.cuda.CudaNative.handle;
import static barista.engine.cuda.CudaNative.wrap;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import barista.engine.linear.DenseLinear;
import barista.engine.linear.LinearLayer;

/**
 * An fp16 dense linear whose calls of up to {@code maxRows} rows (decode steps) run libbarista_native's GEMV
 * ({@code native/src/dense_gemv_kernels.cu}) and larger ones cuBLAS through DJL, as before. A CUDA graph records
 * whichever its bucket's row count picks. On by default for single-row steps, where it beat cuBLAS end to end
 * (docs/performance.md); {@link #ROWS_ENV} widens it to 8 rows or turns it off (0).
 */
final class GemvDenseLinear implements LinearLayer {
  /** The most rows a call may have to take the GEMV: 1-8; 0: the GEMV is not used. */
  static final String ROWS_ENV = "BARISTA_DENSE_GEMV_ROWS";
  static final int MAX_ROWS = 8; // the kernel's kDenseGemvMaxRows
  /** Without {@link #ROWS_ENV}: single-row steps only (the measured gain; 2-8 rows not yet timed end to end). */
  static final int DEFAULT_ROWS = 1;

  private final DenseLinear dense;
  private final int maxRows;
  private final long inputs;

  GemvDenseLinear(DenseLinear dense, int maxRows) {
    if (maxRows < 1 || maxRows > MAX_ROWS) throw new IllegalArgumentException("GEMV rows " + maxRows);
    this.dense = dense;
    this.maxRows = maxRows;
    this.inputs = dense.weight().getShape().get(1);
  }

  /**
   * The linear as the CUDA path should run it: {@code layer} itself unless it is an fp16 dense linear whose input
   * width the kernel takes (a multiple of 8) and {@code maxRows} is at least 1.
   */
  static LinearLayer wrapIfUseful(LinearLayer layer, int maxRows) {
    if (maxRows < 1 || !(layer instanceof DenseLinear d) || d.weight().getDataType() != DataType.FLOAT16
        || d.weight().getShape().dimension() != 2 || d.weight().getShape().get(1) % 8 != 0) {
      return layer;
    }
    return new GemvDenseLinear(d, Math.min(maxRows, MAX_ROWS));
  }

  /** {@link #ROWS_ENV} as read at startup: {@link #DEFAULT_ROWS} when unset, 0 when not a number from 0 to 8. */
  static int rowsFromEnvironment() {
    return rows(System.getenv(ROWS_ENV));
  }

  static int rows(String setting) {
    if (setting == null) return DEFAULT_ROWS;
    try {
      int rows = Integer.parseInt(setting.strip());
      return rows >= 0 && rows <= MAX_ROWS ? rows : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  @Override
  public NDArray apply(NDArray x) {
    long rows = x.size() / inputs;
    if (rows < 1 || rows > maxRows || x.getDataType() != DataType.FLOAT16) return dense.apply(x);
    return wrap(x.getManager(), CudaNative.denseGemv(handle(x), handle(dense.weight()),
        dense.bias() == null ? 0 : handle(dense.bias())));
  }

  @Override
  public boolean captureSafe() {
    return dense.captureSafe();
  }

  @Override
  public String describe() {
    return dense.describe() + "; libbarista_native GEMV up to " + maxRows + " rows";
  }

  @Override
  public long deviceBytes() {
    return dense.deviceBytes();
  }

  @Override
  public void close() {
    dense.close();
  }
}
