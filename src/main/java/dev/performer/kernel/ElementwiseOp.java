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
    COS;

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
        };
    }
}
