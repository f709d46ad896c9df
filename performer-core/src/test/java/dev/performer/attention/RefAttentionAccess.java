package dev.performer.attention;

/** Lets tests in other packages use the package-private double reference {@link RefAttention}. */
public final class RefAttentionAccess {
    private RefAttentionAccess() {}

    public static double[] exact(Dims dims, double[] q, double[] k, double[] v, double[] mask, boolean causal) {
        return RefAttention.exact(dims, q, k, v, mask, causal);
    }

    public static Object favor(boolean relu, double eps, float[] w, int m, int d) {
        return new RefAttention(relu ? RefAttention.Map.RELU : RefAttention.Map.SOFTMAX, eps, w, m, d);
    }

    public static double[][] stabilizers(Object ref, Dims dims, double[] q, double[] k) {
        return ((RefAttention) ref).stabilizers(dims, q, k);
    }

    public static double[] forward(Object ref, Dims dims, double[] q, double[] k, double[] v, double[] mask,
                                   boolean causal, double[][] stab) {
        return ((RefAttention) ref).forward(dims, q, k, v, mask, causal, stab);
    }

    /**
     * min |u| / max |u| over the arguments the plain feature maps (ReLU, …) saw so far: how close to
     * ReLU's kink any pre-activation came, relative to their scale.
     */
    public static double kinkMargin(Object ref) {
        RefAttention r = (RefAttention) ref;
        return r.maxAbsU == 0 ? Double.POSITIVE_INFINITY : r.minAbsU / r.maxAbsU;
    }
}
