package dev.performer.kernel;

/** Element-wise maps with SIMD implementations; {@link #apply} is the scalar definition. */
public enum ElementwiseOp {
    /** max(x, 0) */
    RELU,
    /** 1 if x &gt; 0 else 0 (derivative of RELU) */
    RELU_GRAD,
    /** elu(x) + 1: x + 1 for x &gt; 0, exp(x) otherwise */
    ELU_PLUS_ONE,
    /** derivative of elu(x) + 1: 1 for x &gt; 0, exp(x) otherwise */
    ELU_PLUS_ONE_GRAD,
    /** exp(x) */
    EXP,
    /** |x| */
    ABS,
    /** sign(x) (0 at 0; derivative of ABS) */
    SIGN,
    /** x */
    IDENTITY,
    /** 1 (derivative of IDENTITY) */
    ONE,
    /** sin(x) */
    SIN,
    /** cos(x) */
    COS,
    /**
     * GELU, tanh form: 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), evaluated as
     * x / (1 + exp(−2u)) (the same function, without the cancellation of 1 + tanh for x &lt; 0).
     */
    GELU,
    /** d GELU / dx = s + 2x·u'·s·(1 − s) with s = 1/(1 + exp(−2u)), u' = √(2/π)·(1 + 3·0.044715·x²). */
    GELU_GRAD;

    /** √(2/π), the GELU tanh-form constant. */
    public static final double GELU_C = Math.sqrt(2 / Math.PI);
    /** The cubic coefficient of the GELU tanh form. */
    public static final double GELU_A = 0.044715;

    /** Scalar definition of the map. */
    public float apply(float x) {
        return switch (this) {
            case RELU -> x > 0 ? x : 0f;
            case RELU_GRAD -> x > 0 ? 1f : 0f;
            case ELU_PLUS_ONE -> x > 0 ? x + 1f : (float) Math.exp(x);
            case ELU_PLUS_ONE_GRAD -> x > 0 ? 1f : (float) Math.exp(x);
            case EXP -> (float) Math.exp(x);
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case IDENTITY -> x;
            case ONE -> 1f;
            case SIN -> (float) Math.sin(x);
            case COS -> (float) Math.cos(x);
            case GELU -> (float) (x / (1 + Math.exp(-2 * GELU_C * (x + GELU_A * x * x * x))));
            case GELU_GRAD -> {
                double e = Math.exp(-2 * GELU_C * (x + GELU_A * x * x * x)), s = 1 / (1 + e);
                yield (float) (s + 2 * x * GELU_C * (1 + 3 * GELU_A * x * x) * s * (e * s));
            }
        };
    }
}
