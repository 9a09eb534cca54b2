package graphfold.peer.fold;

/**
 * A transaction refused as a whole, with graphfold's rejection code (schemas/README.md). Thrown to
 * unwind the fold; it carries no stack trace, since refusing bad input is not a program error.
 */
public final class Refusal extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;

  public Refusal(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  /** {@code DECODE_ERROR}, {@code INVALID_INSTRUCTION}, {@code CONFLICT}, {@code NOT_FOUND}, ... */
  public String code() {
    return code;
  }
}
