package dev.performer.cli;

import dev.performer.attention.Attention;
import dev.performer.attention.AttentionSpec;
import dev.performer.attention.Dims;
import dev.performer.kernel.Kernels;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code performer demo}: exact vs FAVOR+ attention on random inputs, agreement and speed. */
@Command(name = "demo", mixinStandardHelpOptions = true, version = Main.VERSION, sortOptions = false,
        synopsisHeading = "usage: ", descriptionHeading = "%n", optionListHeading = "%noptions:%n",
        header = "exact vs FAVOR+ attention on random inputs: agreement and speed",
        description = "Draws q, k ~ N(0, sigma²) and v ~ N(0, 1) (B=1, H heads, L, D) from the seed and runs exact "
                + "softmax attention, FAVOR+ (positive orthogonal features, M = --features) and identity attention ('X "
                + "(OPT)'), bidirectional and causal. FAVOR+'s variance grows like exp(|q~ + k~|²) (the paper's Lemma "
                + "2), so its accuracy depends on the scale of q and k: sigma 0.5 with D = 64 gives |x~|² ≈ 2, as with "
                + "normalized activations; try --sigma 1 to see it degrade. Prints how close FAVOR+ is to exact "
                + "(relative L2 error, max abs error, mean cosine similarity of output rows) and the forward times "
                + "(median of --reps after three warm-up runs), with the speed-up of FAVOR+ over exact.",
        footerHeading = "%nexample:%n", footer = "  performer demo --L 8192 --features 128")
final class DemoCommand extends Options.Command {

    @Option(names = "--L", paramLabel = "N", defaultValue = "4096", converter = Options.AtLeast1.class,
            description = "sequence length (default ${DEFAULT-VALUE})")
    int l;

    @Option(names = "--heads", paramLabel = "N", defaultValue = "8", converter = Options.AtLeast1.class,
            description = "heads H (default ${DEFAULT-VALUE})")
    int h;

    @Option(names = "--dim", paramLabel = "D", defaultValue = "64", converter = Options.AtLeast1.class,
            description = "head width D (default ${DEFAULT-VALUE})")
    int d;

    @Option(names = "--features", paramLabel = "M", defaultValue = "256", converter = Options.AtLeast1.class,
            description = "random features M of FAVOR+ (default ${DEFAULT-VALUE})")
    int m;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", converter = Options.Whole.class,
            description = "seed of the inputs and the features (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--sigma", paramLabel = "X", defaultValue = "0.5", converter = Options.Positive.class,
            description = "standard deviation of q and k (default ${DEFAULT-VALUE})")
    double sigma;

    @Option(names = "--reps", paramLabel = "N", defaultValue = "3", converter = Options.AtLeast1.class,
            description = "timed runs, after three warm-up runs (default ${DEFAULT-VALUE})")
    int reps;

    @Mixin Options.KernelOptions kernels;

    @Override public Integer call() {
        try (Kernels kern = kernels.kernels()) {
            Dims dims = Dims.self(1, h, l, d);
            SplittableRandom r = new SplittableRandom(seed);
            float[] q = gaussian(r, dims.qSize(), sigma), k = gaussian(r, dims.kSize(), sigma),
                    v = gaussian(r, dims.kSize(), 1);
            out.printf(Locale.ROOT,
                    "FAVOR+ vs exact softmax attention: B=1 H=%d L=%d D=%d M=%d, q,k ~ N(0, %.2f²) (orthogonal "
                            + "features, seed %d)%n",
                    h, l, d, m, sigma, seed);
            out.printf(Locale.ROOT, "backend: %s%n%n", kern.describe());
            out.printf(Locale.ROOT, "%-9s %11s %11s %10s %10s %10s %12s %9s%n", "direction", "rel_l2_err",
                    "max_abs_err",
                    "mean_cos", "exact_ms", "favor_ms", "identity_ms", "speedup");
            for (boolean causal : new boolean[]{false, true}) {
                Attention exact = AttentionSpec.of("exact", m).build(kern, d, causal, seed);
                Attention favor = AttentionSpec.of("favor-softmax", m).build(kern, d, causal, seed);
                Attention id = AttentionSpec.of("identity", m).build(kern, d, causal, seed);
                float[] oe = new float[dims.qSize()], of = new float[dims.qSize()], oi = new float[dims.qSize()];
                double te = time(exact, dims, q, k, v, oe, reps), tf = time(favor, dims, q, k, v, of, reps),
                        ti = time(id, dims, q, k, v, oi, reps);
                double num = 0, den = 0, maxAbs = 0, cos = 0;
                for (int i = 0; i < oe.length; i++) {
                    double diff = of[i] - oe[i];
                    num += diff * diff;
                    den += (double) oe[i] * oe[i];
                    maxAbs = Math.max(maxAbs, Math.abs(diff));
                }
                for (int row = 0; row < dims.bh() * l; row++) {
                    double dot = 0, ne = 0, nf = 0;
                    for (int c = 0; c < d; c++) {
                        double x = oe[row * d + c], y = of[row * d + c];
                        dot += x * y; ne += x * x; nf += y * y;
                    }
                    cos += dot / Math.sqrt(ne * nf + 1e-300);
                }
                out.printf(Locale.ROOT, "%-9s %11.4f %11.4f %10.4f %10.1f %10.1f %12.2f %8.1fx%n", causal ? "causal"
                        : "bidir",
                        Math.sqrt(num / den), maxAbs, cos / (dims.bh() * l), te, tf, ti, te / tf);
            }
            out.printf(Locale.ROOT,
                    "%nFAVOR+ is an unbiased random-feature estimate: its error falls like 1/sqrt(M) (try --features "
                            + "1024).%n");
        }
        return 0;
    }

    static float[] gaussian(SplittableRandom r, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (sigma * r.nextGaussian());
        return x;
    }

    /** Median forward time in ms over reps runs after three warm-up runs (JIT compilation). */
    static double time(Attention att, Dims dims, float[] q, float[] k, float[] v, float[] out, int reps) {
        for (int i = 0; i < 3; i++) att.forward(dims, q, k, v, null, out);
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            att.forward(dims, q, k, v, null, out);
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        return Cli.median(t);
    }
}
