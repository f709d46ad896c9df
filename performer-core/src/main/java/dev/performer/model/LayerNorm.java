package dev.performer.model;

import dev.performer.kernel.Kernels;

/**
 * LayerNorm over the C features of each of N rows (N = B·T, or 1 when decoding), with gain g (C)
 * and bias b (C) in the flat parameter buffer:
 * <pre>
 *   forward:  μ = mean(x), rstd = 1/√(mean((x − μ)²) + 1e-5), x̂ = (x − μ)·rstd, y = x̂·g + b
 *             x, y (N, C); μ, rstd (N) are kept for backward
 *   backward: dg += Σ_rows dy·x̂, db += Σ_rows dy, with dn = dy·g:
 *             dx += rstd·(dn − mean(dn) − x̂·mean(dn·x̂))
 * </pre>
 */
final class LayerNorm {

    private final Kernels kern;
    private final float[] params, grads;
    private final int gOff, bOff, c;

    LayerNorm(Kernels kern, float[] params, float[] grads, int gOff, int bOff, int c) {
        this.kern = kern;
        this.params = params;
        this.grads = grads;
        this.gOff = gOff;
        this.bOff = bOff;
        this.c = c;
    }

    /** out (N, C) = LN(x (N, C))·g + b; keeps mean (N) and 1/std (N) for backward. */
    void forward(float[] x, float[] out, float[] mean, float[] rstd, int n) {
        for (int i = 0; i < n; i++) {
            int r = i * c;
            float m = kern.sum(x, r, c) / c;
            float var = 0f;
            for (int j = 0; j < c; j++) { float e = x[r + j] - m; var += e * e; }
            float rs = (float) (1.0 / Math.sqrt(var / c + 1e-5));
            mean[i] = m;
            rstd[i] = rs;
            for (int j = 0; j < c; j++) out[r + j] = (x[r + j] - m) * rs * params[gOff + j] + params[bOff + j];
        }
    }

    /** dxAcc (N, C) += LN backward of dout (N, C) at input x; dg, db += into the gradient buffer. */
    void backward(float[] dout, float[] x, float[] mean, float[] rstd, float[] dxAcc, int n) {
        for (int i = 0; i < n; i++) {
            int r = i * c;
            float m = mean[i], rs = rstd[i];
            float sumD = 0f, sumDn = 0f;
            for (int j = 0; j < c; j++) {
                float norm = (x[r + j] - m) * rs, dn = dout[r + j] * params[gOff + j];
                sumD += dn;
                sumDn += dn * norm;
                grads[gOff + j] += dout[r + j] * norm;
                grads[bOff + j] += dout[r + j];
            }
            float meanD = sumD / c, meanDn = sumDn / c;
            for (int j = 0; j < c; j++) {
                float norm = (x[r + j] - m) * rs, dn = dout[r + j] * params[gOff + j];
                dxAcc[r + j] += rs * (dn - meanD - norm * meanDn);
            }
        }
    }
}
